//! Data readers: round trips and every kind of bad input named in the foundation issue.

mod common;

use std::path::Path;

use common::{images, labels};
use helmholtz::Error;
use helmholtz::data::{
    Binarize, DataConfig, DataSource, TableOptions, load_idx_dir, read_csv, read_idx, read_npy,
    write_idx, write_npy_f32,
};

type R = Result<(), Box<dyn std::error::Error>>;

fn write_set(dir: &Path, n_img: usize, n_lab: usize) -> R {
    for prefix in ["train", "t10k"] {
        write_idx(
            dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            &images(n_img),
        )?;
        write_idx(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &labels(n_lab),
        )?;
    }
    Ok(())
}

/// Reading `path` as a rank-3 IDX file must fail with an error that names `what` and says
/// `why` (see [`assert_names`]).
fn assert_idx_fails(path: &Path, what: &str, why: &str) {
    assert_names(&read_idx(path, 3).expect_err("must fail"), what, why);
}

/// The error's message must name `what` and say `why`, on one line.
fn assert_names(err: &Error, what: &str, why: &str) {
    let msg = err.to_string();
    assert!(
        msg.contains(what) && msg.contains(why) && !msg.contains('\n'),
        "message `{msg}` should name `{what}` and say `{why}`"
    );
    assert!(
        err.is_usage(),
        "`{msg}` should be a usage error (exit status 2)"
    );
}

#[test]
fn idx_round_trip_raw_and_gzipped() -> R {
    let dir = tempfile::tempdir()?;
    for name in ["a-idx3-ubyte", "a-idx3-ubyte.gz"] {
        let p = dir.path().join(name);
        write_idx(&p, &images(7))?;
        assert_eq!(read_idx(&p, 3)?, images(7));
    }
    write_set(dir.path(), 5, 5)?;
    let split = load_idx_dir(dir.path(), "tiny")?;
    assert_eq!(
        (
            split.train.len(),
            split.train.dim(),
            split.train.image_shape()
        ),
        (5, 6, Some([3, 2]))
    );
    // Bytes scale to [0, 1]: the first pixel of image 1 is byte (6 * 37) % 256 = 222.
    assert!((split.train.row(1)[0] - 222.0 / 255.0).abs() < 1e-6);
    assert_eq!(split.train.labels(), Some(&[0u32, 1, 2, 3, 4][..]));
    Ok(())
}

#[test]
fn truncated_idx_is_reported_with_its_size() -> R {
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("t-idx3-ubyte");
    write_idx(&p, &images(4))?;
    let bytes = std::fs::read(&p)?;
    std::fs::write(&p, &bytes[..bytes.len() - 5])?;
    assert_idx_fails(&p, "t-idx3-ubyte", "truncated");
    std::fs::write(&p, &bytes[..3])?;
    assert_idx_fails(&p, "t-idx3-ubyte", "truncated");
    Ok(())
}

#[test]
fn idx_reading_stops_at_the_declared_size() -> R {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("big-idx3-ubyte.gz");
    let gzip = |header: &[u8], zeros: usize| -> R {
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&p)?,
            flate2::Compression::default(),
        );
        gz.write_all(header)?;
        gz.write_all(&vec![0u8; zeros])?;
        gz.finish()?;
        Ok(())
    };
    // A header declaring 2.8e14 bytes is refused before any data are read.
    let mut header = vec![0, 0, 8, 3];
    for _ in 0..3 {
        header.extend_from_slice(&65_535u32.to_be_bytes());
    }
    gzip(&header, 0)?;
    assert_idx_fails(&p, "big-idx3-ubyte.gz", "budget");
    // A header declaring 12 bytes before a flood of them: trailing data.
    let mut header = vec![0, 0, 8, 3];
    for d in [2u32, 3, 2] {
        header.extend_from_slice(&d.to_be_bytes());
    }
    gzip(&header, 1 << 20)?;
    assert_idx_fails(&p, "big-idx3-ubyte.gz", "unexpected bytes");
    gzip(&header, 12)?;
    assert_eq!(read_idx(&p, 3)?.dims, vec![2, 3, 2]);
    Ok(())
}

#[test]
fn wrong_magic_number_is_reported() -> R {
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("m-idx3-ubyte");
    std::fs::write(&p, b"PK\x03\x04 this is a zip, not IDX")?;
    assert_idx_fails(&p, "m-idx3-ubyte", "magic number");
    // Labels given where images are expected: right magic, wrong rank.
    write_idx(&p, &labels(3))?;
    assert_idx_fails(&p, "m-idx3-ubyte", "3-dimensional");
    Ok(())
}

#[test]
fn image_label_count_mismatch_names_both_files() -> R {
    let dir = tempfile::tempdir()?;
    write_set(dir.path(), 10, 9)?;
    let err = load_idx_dir(dir.path(), "tiny").expect_err("must fail");
    assert_names(&err, "labels-idx1-ubyte", "9 labels");
    assert!(err.to_string().contains("10 images"));
    Ok(())
}

#[test]
fn csv_reads_numbers_and_rejects_bad_cells() -> R {
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("d.csv");
    std::fs::write(&p, "x1,y,x2\n1,2,3\n4.5,-1e-2,6\n")?;
    let t = read_csv(&p, Some("y"))?;
    assert_eq!(t.columns, vec!["x1", "x2"]);
    assert_eq!(t.features, vec![1.0, 3.0, 4.5, 6.0]);
    assert_eq!(t.target, Some(vec![2.0, -0.01]));
    assert_names(
        &read_csv(&p, Some("z")).expect_err("must fail"),
        "d.csv",
        "no column named `z`",
    );
    std::fs::write(&p, "x1,y\n1,2\n3,abc\n")?;
    assert_names(
        &read_csv(&p, Some("y")).expect_err("must fail"),
        "d.csv",
        "line 3, column `y`: `abc` is not a number",
    );
    std::fs::write(&p, "x1,y\n1,2\nnan,3\n")?;
    assert_names(
        &read_csv(&p, None).expect_err("must fail"),
        "d.csv",
        "not a finite number",
    );
    Ok(())
}

#[test]
fn npy_round_trip_and_nan_rejection() -> R {
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("x.npy");
    let vals: Vec<f32> = (0..20).map(|i| i as f32 / 20.0).collect();
    write_npy_f32(&p, &[4, 5], &vals)?;
    let a = read_npy(&p)?;
    assert_eq!(
        (a.shape.clone(), a.data.clone()),
        (vec![4, 5], vals.clone())
    );
    // A NaN inside the data is caught when the data set is built, with its position.
    let mut bad = vals;
    bad[7] = f32::NAN;
    write_npy_f32(&p, &[4, 5], &bad)?;
    let cfg = DataConfig {
        source: DataSource::Path(p.clone()),
        binarize: Binarize::None,
        table: TableOptions::default(),
        train_examples: None,
    };
    assert_names(
        &cfg.load(0).expect_err("must fail"),
        "x.npy",
        "row 2, column 3 is not finite",
    );
    Ok(())
}

#[test]
fn embedded_digits_are_complete() -> R {
    let split = DataSource::Digits.load(&TableOptions::default(), 0)?;
    assert_eq!((split.train.len(), split.test.len()), (8000, 2000));
    let labels = split.train.labels().ok_or("labels")?;
    assert!(labels.iter().all(|&l| l < 10));
    // Every digit class is present in both halves.
    for c in 0..10 {
        assert!(labels.contains(&c) && split.test.labels().ok_or("labels")?.contains(&c));
    }
    let (lo, hi) = split.train.range();
    assert!(lo == 0.0 && hi == 1.0);
    Ok(())
}

#[test]
fn tables_split_deterministically_and_binarize() -> R {
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("t.csv");
    let mut text = String::from("a,b\n");
    for i in 0..50 {
        text.push_str(&format!("{},{}\n", i as f32 / 50.0, 1.0 - i as f32 / 50.0));
    }
    std::fs::write(&p, text)?;
    let cfg = DataConfig {
        source: DataSource::Path(p),
        binarize: Binarize::Threshold,
        table: TableOptions::default(),
        train_examples: None,
    };
    let (a, b) = (cfg.load(3)?, cfg.load(3)?);
    assert_eq!(a, b);
    assert_eq!((a.train.len(), a.test.len()), (40, 10));
    assert!(a.train.features().iter().all(|&v| v == 0.0 || v == 1.0));
    Ok(())
}
