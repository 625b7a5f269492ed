//! Flags shared by every family, progress bars, Ctrl-C and output conventions.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;
use clap::parser::ValueSource;
use helmholtz::data::{Binarize, DataConfig, DataSource, TableOptions};
use helmholtz::kernels::runtime::{DeviceKind, init_threads};

/// Flags every command takes, anywhere on the command line (`helmholtz --json rbm train` and
/// `helmholtz rbm train --json` are the same).
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Where to write: the run directory a command creates [default: runs/<family>-<UTC
    /// timestamp>], or the file that `sample`, `predict` and `encode`/`transform` write.
    #[arg(long, global = true, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Seed of every random choice; the same seed gives the same result, bit for bit
    /// [default: 0; `eval`: the run's own seed].
    #[arg(long, global = true, value_name = "N")]
    pub seed: Option<u64>,

    /// Worker threads [default: one per core].
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,

    /// Compute device: `cpu`, or `cuda` (a build with --features cuda; the families built on
    /// burn tensors: rbm, vae, gan, bnn --method bbb).
    #[arg(long, global = true, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub device: String,

    /// Print the result as one JSON object on the last line of stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// Memory budget: sizes from flags and files whose estimate exceeds it are refused before
    /// anything is allocated. Bytes, or with a unit: 512M, 4G, 2GiB [default: half the
    /// physical memory, or of a lower cgroup or `ulimit -v` limit].
    #[arg(long, global = true, value_name = "SIZE", value_parser = memory_size)]
    pub max_memory: Option<u64>,
}

/// `--max-memory`'s value: the library's parser, its reason as clap's.
fn memory_size(s: &str) -> Result<u64, String> {
    helmholtz::budget::parse_size(s).map_err(|e| match e {
        helmholtz::Error::InvalidParam { reason, .. } => reason,
        other => other.to_string(),
    })
}

impl Global {
    /// Size the thread pool (and flush denormals) before any work.
    pub fn init(&self) -> anyhow::Result<()> {
        if let Some(bytes) = self.max_memory {
            helmholtz::budget::set_limit(bytes);
        }
        init_threads(self.threads)?;
        Ok(())
    }

    /// The seed, 0 when not given.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    /// The `--device` choice.
    pub fn device_kind(&self) -> anyhow::Result<DeviceKind> {
        Ok(self.device.parse()?)
    }
}

/// The arguments typed on the command line (clap ids: field names), defaults excluded.
static GIVEN: OnceLock<Vec<String>> = OnceLock::new();

/// Remember which arguments the command line gave (from the program down to the leaf
/// command), so that a command can refuse a flag its mode does not use.
pub fn record_given(matches: &clap::ArgMatches) {
    let mut given = Vec::new();
    let mut m = matches;
    loop {
        given.extend(
            m.ids()
                .filter(|id| m.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                .map(|id| id.as_str().to_owned()),
        );
        match m.subcommand() {
            Some((_, sub)) => m = sub,
            None => break,
        }
    }
    let _ = GIVEN.set(given);
}

/// Whether `--flag` (kebab case) was typed.
pub fn given(flag: &str) -> bool {
    let id = flag.replace('-', "_");
    GIVEN.get().is_some_and(|g| g.contains(&id))
}

/// Refuse the first of `flags` that was typed: `why` says which mode does not use it. A flag
/// that would be silently ignored is an error (exit 2), never a surprise.
pub fn refuse_unused(flags: &[&'static str], why: &str) -> anyhow::Result<()> {
    match flags.iter().find(|f| given(f)) {
        Some(flag) => Err(helmholtz::Error::param(flag, format!("{why}; drop it")).into()),
        None => Ok(()),
    }
}

/// The data flag of every command that trains on data.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Data: `digits` (embedded, 8k train / 2k test MNIST digits), `fashion-mnist` (Debian's
    /// dataset-fashion-mnist, or $HELMHOLTZ_DATA), or a PATH: a folder of MNIST-format IDX
    /// files (train-*/t10k-*, raw or .gz), or a .csv / .npy file.
    #[arg(
        long,
        default_value = "digits",
        value_name = "digits|fashion-mnist|PATH"
    )]
    pub data: String,
}

/// How single-table data (.csv / .npy) are read.
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// CSV column holding the target (kept out of the features).
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,

    /// Fraction of a single table's rows held out as the test set.
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    pub test_fraction: f64,
}

impl CommonArgs {
    /// The data description saved in config.json.
    pub fn data_config(&self, binarize: Binarize, table: &TableArgs) -> anyhow::Result<DataConfig> {
        Ok(DataConfig {
            source: self.data.parse::<DataSource>()?,
            binarize,
            table: TableOptions {
                target: table.target.clone(),
                test_fraction: table.test_fraction,
            },
            train_examples: None,
        })
    }
}

/// The binary patterns in `data` (any `--data` form), thresholded at 0.5, tables read with
/// the default options.
pub fn binary_data(data: &str) -> anyhow::Result<DataConfig> {
    Ok(DataConfig {
        source: data.parse::<DataSource>()?,
        binarize: Binarize::Threshold,
        table: TableOptions::default(),
        train_examples: None,
    })
}

/// A progress bar on stderr (drawn only when stderr is a terminal).
pub fn progress_bar() -> indicatif::ProgressBar {
    indicatif::ProgressBar::with_draw_target(
        Some(0),
        indicatif::ProgressDrawTarget::stderr_with_hz(5),
    )
}

/// Set by the first SIGINT / SIGTERM / SIGHUP once a training command asked for it.
static STOP: std::sync::LazyLock<Arc<AtomicBool>> =
    std::sync::LazyLock::new(|| Arc::new(AtomicBool::new(false)));
/// Whether the running command stops gracefully (training: save a checkpoint first).
static GRACEFUL: AtomicBool = AtomicBool::new(false);

/// Install the handler of SIGINT, SIGTERM and SIGHUP (ctrlc's `termination`), once, before the
/// command runs. A training command (see [`interrupt_flag`]) finishes its batch, saves a
/// checkpoint and exits 130; a second signal exits at once. Any other command exits 130 at
/// once, removing the one-shot run directory it was filling, so that it leaves nothing half
/// made. Failing to install (a handler already exists) only loses the graceful stop.
pub fn install_signal_handler() {
    let _ = ctrlc::set_handler(|| {
        if !GRACEFUL.load(Ordering::SeqCst) {
            helmholtz::io::RunDir::discard_unfinished();
            eprintln!("\ninterrupted");
            std::process::exit(130);
        }
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted twice: exiting without saving");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupt: finishing this batch, saving a checkpoint, then exiting (Ctrl-C again to abort)"
        );
    });
}

/// The stop flag of a training command: from now on a signal asks training to save and stop.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    GRACEFUL.store(true, Ordering::SeqCst);
    STOP.clone()
}

/// Run `work` with a progress bar on stderr, then print what it returns: `line` of it, or with
/// `--json` the object.
pub fn with_progress<S: serde::Serialize, E>(
    json: bool,
    work: impl FnOnce(&indicatif::ProgressBar) -> Result<S, E>,
    line: impl FnOnce(&S) -> String,
) -> anyhow::Result<()>
where
    anyhow::Error: From<E>,
{
    let s = work(&progress_bar())?;
    emit(json, &line(&s), &s)
}

/// Run a one-shot `job` that writes the run directory `--out` (or a fresh one) with a progress
/// bar, then print its summary (`line`, or the JSON with `--json`).
pub fn write_run<C, S: serde::Serialize>(
    g: &Global,
    cfg: C,
    job: impl FnOnce(
        C,
        Option<&std::path::Path>,
        &dyn helmholtz::train::Progress,
    ) -> helmholtz::Result<S>,
    line: fn(&S) -> String,
) -> anyhow::Result<()> {
    with_progress(g.json, |bar| job(cfg, g.out.as_deref(), bar), line)
}

/// The choices of a keyword parameter, from the library's list of its names (`--help` shows
/// them; anything else is refused before the command runs).
pub fn kw(names: &'static [&'static str]) -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(names)
}

/// Print a summary: a human line, or with `--json` one JSON object as the last stdout line.
pub fn emit(json: bool, human: &str, value: &impl serde::Serialize) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        println!("{human}");
    }
    Ok(())
}
