//! The shared fit loop: divergence handling and checkpoints, on a toy model whose state is a
//! counter (so every expected value is known exactly).

use burn::prelude::*;
use burn::tensor::TensorData;
use helmholtz::Result;
use helmholtz::data::Dataset;
use helmholtz::io::{Position, RunDir, TensorFile};
use helmholtz::train::{EpochData, Fit, Metrics, PictureAt, Silent, Step, TrainConfig, Trainer};
use rand::rngs::StdRng;

/// Adds 1 to `count` per batch; reports NaN at `(epoch, batch)` = `nan_at`, or poisons its
/// parameter at the end of epoch `poison_after`.
struct Counter {
    count: f32,
    nan_at: Option<(usize, usize)>,
    poison_after: Option<usize>,
    device: Device,
}

impl Fit for Counter {
    fn live_metric(&self) -> &'static str {
        "count"
    }
    fn train_batch(
        &mut self,
        _x: Option<Tensor<2>>,
        step: &Step,
        _rng: &mut StdRng,
    ) -> Result<f64> {
        self.count += 1.0;
        if self.nan_at == Some((step.epoch, step.batch)) {
            return Ok(f64::NAN);
        }
        Ok(self.count as f64)
    }
    fn epoch_metrics(&mut self, at: EpochData<'_>, _: &mut StdRng) -> Result<Metrics> {
        let EpochData { epoch, .. } = at;
        if self.poison_after == Some(epoch) {
            self.count = f32::INFINITY;
        }
        Ok(vec![("count", self.count as f64)])
    }
    fn write_pictures(&mut self, _: PictureAt<'_>, _: &mut StdRng) -> Result<()> {
        Ok(())
    }
    fn state(&self) -> Result<(TensorFile, TensorFile)> {
        let mut m = TensorFile::default();
        m.put(
            "count",
            &Tensor::<1>::from_data(TensorData::new(vec![self.count], [1]), &self.device),
        );
        Ok((m, TensorFile::default()))
    }
    fn load_state(&mut self, m: &TensorFile, _: &TensorFile, run: &RunDir) -> Result<()> {
        let t: Tensor<1> = m.get("count", [1], &self.device, &run.file("model.safetensors"))?;
        self.count = t.into_scalar::<f32>();
        Ok(())
    }
    fn non_finite_parameter(&self) -> Option<String> {
        (!self.count.is_finite()).then(|| "count".into())
    }
}

fn data() -> Result<Dataset> {
    // 10 examples, batch size 4: batches of 4, 4, 2 per epoch.
    Dataset::new("ten", (0..10).map(|i| i as f32).collect(), 1, None)
}

fn saved_count(run: &RunDir) -> Result<f32> {
    let f = TensorFile::load(&run.file("model.safetensors"))?;
    Ok(f.tensors["count"].data[0])
}

fn setup(nan_at: Option<(usize, usize)>, poison_after: Option<usize>) -> (Counter, TrainConfig) {
    let device = Device::flex();
    let model = Counter {
        count: 0.0,
        nan_at,
        poison_after,
        device,
    };
    (
        model,
        TrainConfig {
            epochs: 3,
            batch_size: 4,
            seed: 0,
        },
    )
}

/// A fresh run directory of the counter family in a temporary folder (removed when the
/// returned guard drops).
fn counter_run() -> Result<(tempfile::TempDir, RunDir)> {
    let tmp = tempfile::tempdir().map_err(|e| helmholtz::Error::io("tempdir", e))?;
    let run = RunDir::create(tmp.path().join("r"))?;
    run.write_json("config.json", &serde_json::json!({"family": "counter"}))?;
    Ok((tmp, run))
}

#[test]
fn nan_loss_stops_training_and_keeps_the_last_good_checkpoint() -> Result<()> {
    let (_tmp, run) = counter_run()?;
    let (mut model, cfg) = setup(Some((2, 1)), None);
    let trainer = Trainer::new(cfg, Device::flex(), &Silent)?.with_run_dir(&run);
    let err = trainer
        .fit(&mut model, &data()?, None, Position::default())
        .expect_err("must diverge");
    // Batch index 1 of epoch 2 is reported 1-based as batch 2.
    assert!(
        matches!(&err, helmholtz::Error::Diverged { epoch: 2, batch: 2, what, .. } if what == "count"),
        "{err}"
    );
    assert!(err.to_string().contains("last good checkpoint is kept"));
    // The checkpoint is the one after epoch 1: three batches.
    assert_eq!(saved_count(&run)?, 3.0);
    assert_eq!(
        run.position()?,
        Position {
            epochs_done: 1,
            batches_done: 0
        }
    );
    Ok(())
}

#[test]
fn non_finite_parameter_after_an_epoch_is_caught_before_it_is_saved() -> Result<()> {
    let (_tmp, run) = counter_run()?;
    let (mut model, cfg) = setup(None, Some(2));
    let trainer = Trainer::new(cfg, Device::flex(), &Silent)?.with_run_dir(&run);
    let err = trainer
        .fit(&mut model, &data()?, None, Position::default())
        .expect_err("must diverge");
    assert!(
        matches!(&err, helmholtz::Error::Diverged { epoch: 2, what, .. } if what.contains("count")),
        "{err}"
    );
    assert_eq!(saved_count(&run)?, 3.0);
    Ok(())
}

#[test]
fn every_epoch_is_checkpointed_and_recorded() -> Result<()> {
    let (_tmp, run) = counter_run()?;
    let (mut model, cfg) = setup(None, None);
    let trainer = Trainer::new(cfg, Device::flex(), &Silent)?.with_run_dir(&run);
    trainer.fit(&mut model, &data()?, None, Position::default())?;
    assert_eq!(saved_count(&run)?, 9.0);
    let counts: Vec<f64> = run
        .metrics()?
        .iter()
        .map(|m| m["count"].as_f64().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(counts, vec![3.0, 6.0, 9.0]);
    assert!(run.file("report.html").is_file());
    // No temporary files are left behind by the atomic writes.
    let leftovers: Vec<String> = std::fs::read_dir(run.path())
        .map_err(|e| helmholtz::Error::io(run.path(), e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Ok(())
}
