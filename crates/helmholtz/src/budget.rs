//! The memory budget: every size that comes from a parameter or a file is turned into a byte
//! estimate and checked here before anything of that size is allocated, so that a slip of the
//! keyboard (`hidden = 1000000000`) or a hostile file (a header declaring `10^12` nodes, a gzip
//! bomb) is refused at once, naming the parameter or the file, instead of aborting when an
//! allocation fails or swapping the machine to a halt.
//!
//! The budget is process-wide. By default it is half the physical memory (`MemTotal` in
//! `/proc/meminfo`), or half of a smaller cgroup memory limit or address-space limit
//! (`ulimit -v`) when there is one, and [`FALLBACK`] where none can be read; [`set_limit`]
//! replaces it (the command line's `max-memory`).
//!
//! Estimates are products and sums in `u128` that saturate ([`bytes`], [`total`]), so no
//! shape can overflow on its way here. They count the large buffers a command holds at once
//! (weights, chains, samples, states), not every temporary: an order of magnitude, meant to
//! tell a mistake from a big job.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// The budget where the machine's memory cannot be read: 8 GiB.
pub const FALLBACK: u64 = 8 << 30;

/// The budget set by [`set_limit`]; 0 while none is set.
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// Set the budget to `bytes` (at least 1) for the rest of the process.
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// The budget in bytes: the one set by [`set_limit`], else the machine's default.
pub fn limit() -> u64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => default_limit(),
        set => set,
    }
}

/// Half of the smallest of physical memory, the cgroup limit and the address-space limit.
pub fn default_limit() -> u64 {
    static DEFAULT: OnceLock<u64> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let physical = read("/proc/meminfo", meminfo_total);
        let cgroup = read("/sys/fs/cgroup/memory.max", |t| t.trim().parse().ok());
        let address = read("/proc/self/limits", address_space_limit);
        match [physical, cgroup, address].into_iter().flatten().min() {
            Some(m) => (m / 2).max(1),
            None => FALLBACK,
        }
    })
}

fn read(path: &str, parse: fn(&str) -> Option<u64>) -> Option<u64> {
    parse(&std::fs::read_to_string(path).ok()?)
}

/// `MemTotal:  24684092 kB` in bytes.
fn meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The soft limit of `Max address space   2048000000   2048000000   bytes` (none when
/// `unlimited`).
fn address_space_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Bytes per network parameter while training: the value, its gradient, Adam's two moments
/// and a copy in the autodiff graph or the host engine.
pub const PARAM_BYTES: usize = 24;

/// Bytes per activation of a batch row: the value, its gradient and the pre-activation.
pub const ACTIVATION_BYTES: usize = 16;

/// The parameters (weights and biases) of dense layers `widths[0] -> widths[1] -> ...`.
pub fn layers(widths: &[usize]) -> u128 {
    total(
        &widths
            .windows(2)
            .map(|w| bytes(&[w[0], w[1]]).saturating_add(w[1] as u128))
            .collect::<Vec<_>>(),
    )
}

/// The parameters of dense layers through `widths` (each a width and the parameter that sets
/// it), at `per_param` bytes each, by parameter: a layer's weights and biases are blamed on its
/// wider side, the one that makes them many. Names appear in order, each once.
pub fn network(widths: &[(&'static str, usize)], per_param: usize) -> Vec<(&'static str, u128)> {
    let mut costs: Vec<(&'static str, u128)> = Vec::new();
    for pair in widths.windows(2) {
        let ((a_name, a), (b_name, b)) = (pair[0], pair[1]);
        let name = if a > b { a_name } else { b_name };
        let cost = layers(&[a, b]).saturating_mul(per_param as u128);
        match costs.iter_mut().find(|c| c.0 == name) {
            Some(c) => c.1 = c.1.saturating_add(cost),
            None => costs.push((name, cost)),
        }
    }
    costs
}

/// The sum of `widths` (units in a row of activations), saturating.
pub fn units(widths: &[usize]) -> usize {
    widths.iter().fold(0usize, |a, &w| a.saturating_add(w))
}

/// The product of `factors` (counts and element sizes), saturating at `u128::MAX`.
pub fn bytes(factors: &[usize]) -> u128 {
    factors
        .iter()
        .fold(1u128, |acc, &f| acc.saturating_mul(f as u128))
}

/// The sum of `parts`, saturating at `u128::MAX`.
pub fn total(parts: &[u128]) -> u128 {
    parts.iter().fold(0u128, |acc, &p| acc.saturating_add(p))
}

/// Refuse `bytes` over the budget, blaming the parameter `name`.
pub fn check(name: &'static str, bytes: u128) -> Result<()> {
    check_parts(&[(name, bytes)])
}

/// Refuse `bytes` over the budget, blaming the file `path` for `what` it declares (its
/// header's sizes, say).
pub fn check_file(path: &Path, what: &str, bytes: u128) -> Result<()> {
    check_costs(&[(Subject::File(path, what), bytes)])
}

/// Refuse a job whose `parts` (each a parameter and the bytes it costs) add up to more than the
/// budget, blaming the parameter that costs most.
pub fn check_parts(parts: &[(&'static str, u128)]) -> Result<()> {
    let costs: Vec<(Subject<'_>, u128)> = parts
        .iter()
        .map(|&(name, b)| (Subject::Param(name), b))
        .collect();
    check_costs(&costs)
}

/// What a share of a job's memory is blamed on.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A parameter, by name.
    Param(&'static str),
    /// A file and what in it costs the memory.
    File(&'a Path, &'a str),
}

/// Refuse a job whose `costs` add up to more than the budget, blaming the subject (a parameter
/// or a file) that costs most.
pub fn check_costs(costs: &[(Subject<'_>, u128)]) -> Result<()> {
    let all = total(&costs.iter().map(|c| c.1).collect::<Vec<_>>());
    let Some(&(subject, most)) = costs.iter().max_by_key(|c| c.1) else {
        return Ok(());
    };
    match (over(most, all), subject) {
        (None, _) => Ok(()),
        (Some(reason), Subject::Param(name)) => Err(Error::param(name, reason)),
        (Some(reason), Subject::File(path, what)) => {
            Err(Error::bad_file(path, format!("{what} {reason}")))
        }
    }
}

/// The reason to refuse a job of `all` bytes, `part` of them for the thing named; `None` when
/// it fits.
fn over(part: u128, all: u128) -> Option<String> {
    let limit = limit();
    if all <= u128::from(limit) {
        return None;
    }
    let of = if show(part) != show(all) {
        format!(" (of {} in all)", show(all))
    } else {
        String::new()
    };
    let about = if part > u128::from(u64::MAX) {
        ""
    } else {
        "about "
    };
    Some(format!(
        "needs {about}{} of memory{of}, more than the {} budget (max-memory)",
        show(part),
        show(u128::from(limit))
    ))
}

/// `bytes` for people: `512 B`, `1.5 KiB`, `2.9 TiB`, `more than 16 EiB`.
pub fn show(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes > u128::from(u64::MAX) {
        return "more than 16 EiB".into();
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Parse a memory size: a number of bytes, or a number (decimals allowed) followed by a unit
/// `K`, `M`, `G`, `T` (powers of 1024; `KB`, `KiB`, ... spell the same), case-insensitive:
/// `1073741824`, `512M`, `4G`, `2GiB`, `1.5g`. The error names the parameter `max-memory`.
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = |why: &str| {
        Error::param(
            "max-memory",
            format!("`{text}` {why} (give bytes, or a number with K, M, G or T: 512M, 4G, 2GiB)"),
        )
    };
    let s = text.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad("is not a size"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad("has an unknown unit")),
    };
    let bytes = value * (1u64 << shift) as f64;
    if bytes < 1.0 {
        return Err(bad("must be at least one byte"));
    }
    if bytes >= u64::MAX as f64 {
        return Err(bad("is too large"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() -> Result<()> {
        assert_eq!(parse_size("1073741824")?, 1 << 30);
        assert_eq!(parse_size("512M")?, 512 << 20);
        assert_eq!(parse_size("4G")?, 4 << 30);
        assert_eq!(parse_size("2GiB")?, 2 << 30);
        assert_eq!(parse_size("1.5g")?, 3 << 29);
        assert_eq!(parse_size(" 64 kb ")?, 64 << 10);
        assert_eq!(parse_size("1T")?, 1 << 40);
        for bad in [
            "",
            "G",
            "-1G",
            "0",
            "0.0001",
            "4X",
            "1e9",
            "99999999999T",
            "1.2.3M",
        ] {
            let e = parse_size(bad).expect_err(bad).to_string();
            assert!(e.starts_with("max-memory: "), "{bad}: {e}");
        }
        Ok(())
    }

    #[test]
    fn estimates_saturate_instead_of_overflowing() {
        assert_eq!(bytes(&[3, 4, 5]), 60);
        assert_eq!(layers(&[784, 400, 20]), 784 * 400 + 400 + 400 * 20 + 20);
        assert_eq!(layers(&[usize::MAX, usize::MAX, 2]), u128::MAX);
        assert_eq!(units(&[usize::MAX, 1]), usize::MAX);
        // 784 -> 10^9 -> 20: both layers are blamed on the hidden layer, the wider side.
        let n = network(
            &[("data", 784), ("hidden", 1_000_000_000), ("latent", 20)],
            1,
        );
        assert_eq!(n, vec![("hidden", layers(&[784, 1_000_000_000, 20]))]);
        let n = network(&[("data", 784), ("hidden", 400), ("latent", 40_000)], 2);
        assert_eq!(n[0], ("data", 2 * layers(&[784, 400])));
        assert_eq!(n[1], ("latent", 2 * layers(&[400, 40_000])));
        assert_eq!(bytes(&[]), 1);
        assert_eq!(bytes(&[usize::MAX, usize::MAX, usize::MAX]), u128::MAX);
        assert_eq!(total(&[u128::MAX, 1]), u128::MAX);
        assert_eq!(show(u128::MAX), "more than 16 EiB");
        assert_eq!(show(512), "512 B");
        assert_eq!(show(3 << 29), "1.5 GiB");
        assert_eq!(show(700 << 30), "700 GiB");
    }

    #[test]
    fn check_refuses_over_the_budget_and_blames_the_largest_part() {
        // The default budget is at least a byte and at most half of an u64.
        let limit = u128::from(default_limit());
        assert!(check("hidden", limit).is_ok());
        let e = check("hidden", bytes(&[usize::MAX, usize::MAX])).expect_err("too big");
        assert!(
            e.to_string()
                .starts_with("hidden: needs more than 16 EiB of memory"),
            "{e}"
        );
        assert!(e.is_usage());
        assert!(check_parts(&[("chains", limit), ("hidden", 1)]).is_err());
        let e = check_parts(&[("chains", limit), ("hidden", limit / 2)]).expect_err("over");
        assert!(e.to_string().starts_with("chains: needs about"), "{e}");
        assert!(e.to_string().contains("in all"), "{e}");
        let e = check_file(Path::new("g.txt"), "10^40 nodes", u128::MAX).expect_err("file");
        assert!(
            e.to_string()
                .starts_with("g.txt: 10^40 nodes needs more than"),
            "{e}"
        );
        assert!(check_parts(&[]).is_ok());
    }

    #[test]
    fn proc_files_parse() {
        assert_eq!(
            meminfo_total("MemTotal:       24684092 kB\nMemFree: 1 kB\n"),
            Some(24_684_092 * 1024)
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max address space         2048000000           2048000000           bytes\n";
        assert_eq!(address_space_limit(limits), Some(2_048_000_000));
        let unlimited =
            "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_space_limit(unlimited), None);
    }
}
