//! Environments: a generative process (the world's own `A`, `B`, `D`) and the generative model
//! the agent starts with.
//!
//! - `tmaze`: pymdp's `TMazeEnv` and its demo. Locations centre (0), left arm (1), right arm
//!   (2), cue (3); reward conditions 0 (left rewarding) and 1. Outcomes: location; reward
//!   (none, reward, loss), at the rewarding arm with probability 0.98; cue (0 or 1), which names
//!   the condition at the cue location and is a coin flip elsewhere. `C[1] = [0, 3, -3]`, the
//!   agent starts at the centre, the condition is unknown (`D[1]` uniform). Any location can be
//!   reached from any other in one move.
//! - `tmaze-null`: pymdp's `TMazeEnvNullOutcome` and its learning demo: the cue modality has a
//!   null outcome (0) away from the cue, and the agent does not know the reward probabilities:
//!   `pA` is the true `A` scaled by 1e16 except the reward and loss rows at the arms, which are
//!   1 (the agent's `A` is uniform over reward and loss there), `C[1] = [0, 2, -2]`.
//! - `tmaze-absorbing`: the T-maze of Friston et al. (2015), where an arm, once entered, is not
//!   left, the cue location costs (`C[0][3] = -2`) and the stakes are high (`C[1] = [0, 6,
//!   -6]`). A plan of fixed actions cannot use the cue (its beliefs about the arm never see
//!   it), so plain expected free energy with `policy_len` 2 gambles on an arm; sophisticated
//!   inference with depth 2 visits the cue first.
//! - `grid`: a 5 x 5 grid world, start at the top-left corner, moves up, right, down, left and
//!   stay (off the grid: stay). The observed location is right with probability 0.8 and
//!   otherwise one of the in-grid neighbours, uniformly. `C` is minus the Manhattan distance to
//!   the goal in the bottom-right corner.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{Array, Pomdp};
use crate::error::{Error, Result};

/// Where an environment comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EnvSpec {
    /// pymdp's T-maze.
    Tmaze,
    /// pymdp's T-maze with a null cue outcome, reward probabilities to learn.
    TmazeNull,
    /// The T-maze with absorbing arms, a costly cue and high stakes.
    TmazeAbsorbing,
    /// The noisy 5 x 5 grid world.
    Grid,
    /// A model file; the generative process is `process` when given, else the model itself.
    Model {
        /// The agent's model.
        path: PathBuf,
        /// The world's own `A`, `B`, `D`.
        process: Option<PathBuf>,
    },
}

impl EnvSpec {
    /// The names of the built-in environments.
    pub const BUILT_IN: [&'static str; 4] = ["tmaze", "tmaze-null", "tmaze-absorbing", "grid"];

    /// `tmaze`, `tmaze-null`, `tmaze-absorbing`, `grid`, or a model file's path.
    pub fn parse(s: &str, process: Option<PathBuf>) -> Self {
        match s {
            "tmaze" => Self::Tmaze,
            "tmaze-null" => Self::TmazeNull,
            "tmaze-absorbing" => Self::TmazeAbsorbing,
            "grid" => Self::Grid,
            path => Self::Model {
                path: path.into(),
                process,
            },
        }
    }

    /// A short name for titles.
    pub fn name(&self) -> String {
        match self {
            Self::Tmaze => "tmaze".into(),
            Self::TmazeNull => "tmaze-null".into(),
            Self::TmazeAbsorbing => "tmaze-absorbing".into(),
            Self::Grid => "grid".into(),
            Self::Model { path, .. } => path.display().to_string(),
        }
    }
}

/// What the figures of an environment mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// A T-maze: cue first, reward arm, rewards.
    TMaze,
    /// The grid: reaching the goal cell.
    Grid {
        /// Cells per side.
        side: usize,
        /// The goal cell.
        goal: usize,
    },
    /// Any other model: only the utility of the outcomes.
    Model,
}

/// A generative process and the agent's generative model.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// The world (its `A`, `B`, `D` generate states and outcomes).
    pub process: Pomdp,
    /// The agent's model.
    pub model: Pomdp,
    /// What the figures mean.
    pub task: Task,
}

impl Environment {
    /// Build or read the environment.
    pub fn new(spec: &EnvSpec) -> Result<Self> {
        Ok(match spec {
            EnvSpec::Tmaze => {
                let m = tmaze([0.98, 0.02], false, false, [0.0, 3.0, -3.0], 0.0);
                Self {
                    process: m.clone(),
                    model: m,
                    task: Task::TMaze,
                }
            }
            EnvSpec::TmazeNull => tmaze_null(),
            EnvSpec::TmazeAbsorbing => {
                let m = tmaze([0.98, 0.02], false, true, [0.0, 6.0, -6.0], -2.0);
                Self {
                    process: m.clone(),
                    model: m,
                    task: Task::TMaze,
                }
            }
            EnvSpec::Grid => {
                let m = grid(5, 0.2);
                Self {
                    process: m.clone(),
                    model: m,
                    task: Task::Grid { side: 5, goal: 24 },
                }
            }
            EnvSpec::Model { path, process } => {
                let model = Pomdp::read(path)?;
                let process = match process {
                    Some(p) => {
                        let w = Pomdp::read(p)?;
                        same_dimensions(&model, &w, p)?;
                        w
                    }
                    None => model.clone(),
                };
                Self {
                    process,
                    model,
                    task: Task::Model,
                }
            }
        })
    }
}

fn same_dimensions(model: &Pomdp, process: &Pomdp, path: &Path) -> Result<()> {
    let dims = |m: &Pomdp| (m.num_states(), m.num_obs(), m.num_controls());
    if dims(model) != dims(process) {
        return Err(Error::bad_file(
            path,
            format!(
                "the process has (states, outcomes, controls) {:?}; the model has {:?}",
                dims(process),
                dims(model)
            ),
        ));
    }
    Ok(())
}

fn onehot(k: usize, n: usize) -> Vec<f64> {
    let mut v = vec![0.0; n];
    v[k] = 1.0;
    v
}

/// The T-maze's likelihoods, transitions, preferences `C[1] = reward_c` and a location cost at
/// the cue (`C[0][3]`).
pub fn tmaze(
    reward_probs: [f64; 2],
    null_cue: bool,
    absorbing_arms: bool,
    reward_c: [f64; 3],
    cue_cost: f64,
) -> Pomdp {
    let (locs, conds) = (4usize, 2usize);
    let cues = if null_cue { 3 } else { 2 };
    let mut a = vec![
        Array::full(&[locs, locs, conds], 0.0),
        Array::full(&[3, locs, conds], 0.0),
        Array::full(&[cues, locs, conds], 0.0),
    ];
    let at = |o: usize, l: usize, c: usize| (o * locs + l) * conds + c;
    for l in 0..locs {
        for c in 0..conds {
            match l {
                0 | 3 => {
                    a[1].data[at(0, l, c)] = 1.0;
                    if l == 3 {
                        a[2].data[at(c + usize::from(null_cue), l, c)] = 1.0;
                    } else if null_cue {
                        a[2].data[at(0, l, c)] = 1.0;
                    } else {
                        for o in 0..cues {
                            a[2].data[at(o, l, c)] = 1.0 / cues as f64;
                        }
                    }
                }
                _ => {
                    let (high, low) = if l == c + 1 { (1, 2) } else { (2, 1) };
                    a[1].data[at(high, l, c)] = reward_probs[0];
                    a[1].data[at(low, l, c)] = reward_probs[1];
                    if null_cue {
                        a[2].data[at(0, l, c)] = 1.0;
                    } else {
                        for o in 0..cues {
                            a[2].data[at(o, l, c)] = 1.0 / cues as f64;
                        }
                    }
                }
            }
            a[0].data[at(l, l, c)] = 1.0;
        }
    }
    let mut b_loc = Array::full(&[locs, locs, locs], 0.0);
    for next in 0..locs {
        for prev in 0..locs {
            for u in 0..locs {
                let to = if absorbing_arms && (prev == 1 || prev == 2) {
                    prev
                } else {
                    u
                };
                if next == to {
                    b_loc.data[(next * locs + prev) * locs + u] = 1.0;
                }
            }
        }
    }
    let mut b_cond = Array::full(&[conds, conds, 1], 0.0);
    for c in 0..conds {
        b_cond.data[c * conds + c] = 1.0;
    }
    let mut c0 = vec![0.0; locs];
    c0[3] = cue_cost;
    Pomdp {
        a,
        b: vec![b_loc, b_cond],
        c: vec![c0, reward_c.to_vec(), vec![0.0; cues]],
        d: vec![onehot(0, locs), vec![0.5, 0.5]],
        e: None,
        pa: None,
        pb: None,
        pd: None,
    }
}

/// pymdp's T-maze learning demo: the null-outcome T-maze, reward probabilities unknown.
fn tmaze_null() -> Environment {
    let process = tmaze([0.98, 0.02], true, false, [0.0, 3.0, -3.0], 0.0);
    let mut model = tmaze([0.98, 0.02], true, false, [0.0, 2.0, -2.0], 0.0);
    let mut pa: Vec<Array> = process
        .a
        .iter()
        .map(|a| Array {
            shape: a.shape.clone(),
            data: a.data.iter().map(|x| x * 1e16).collect(),
        })
        .collect();
    // pA[1][1:, 1:3, :] = 1.
    for o in 1..3 {
        for l in 1..3 {
            for c in 0..2 {
                pa[1].data[(o * 4 + l) * 2 + c] = 1.0;
            }
        }
    }
    model.a = pa.iter().map(Array::normalised_columns).collect();
    model.pa = Some(pa);
    Environment {
        process,
        model,
        task: Task::TMaze,
    }
}

/// The `side x side` grid world with observation noise `noise`.
pub fn grid(side: usize, noise: f64) -> Pomdp {
    let n = side * side;
    let neighbours = |s: usize| {
        let (r, c) = (s / side, s % side);
        let mut out = Vec::new();
        if r > 0 {
            out.push(s - side);
        }
        if c + 1 < side {
            out.push(s + 1);
        }
        if r + 1 < side {
            out.push(s + side);
        }
        if c > 0 {
            out.push(s - 1);
        }
        out
    };
    let mut a = Array::full(&[n, n], 0.0);
    for s in 0..n {
        let nb = neighbours(s);
        a.data[s * n + s] = 1.0 - noise;
        for &o in &nb {
            a.data[o * n + s] += noise / nb.len() as f64;
        }
    }
    // Moves: up, right, down, left, stay.
    let mut b = Array::full(&[n, n, 5], 0.0);
    for s in 0..n {
        let (r, c) = (s / side, s % side);
        let targets = [
            if r > 0 { s - side } else { s },
            if c + 1 < side { s + 1 } else { s },
            if r + 1 < side { s + side } else { s },
            if c > 0 { s - 1 } else { s },
            s,
        ];
        for (u, &to) in targets.iter().enumerate() {
            b.data[(to * n + s) * 5 + u] = 1.0;
        }
    }
    let goal = n - 1;
    let c = (0..n)
        .map(|o| {
            let (r, col) = (o / side, o % side);
            let (gr, gc) = (goal / side, goal % side);
            -((r.abs_diff(gr) + col.abs_diff(gc)) as f64)
        })
        .collect();
    Pomdp {
        a: vec![a],
        b: vec![b],
        c: vec![c],
        d: vec![onehot(0, n)],
        e: None,
        pa: None,
        pb: None,
        pd: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_models_are_valid() {
        for name in EnvSpec::BUILT_IN {
            let env = Environment::new(&EnvSpec::parse(name, None)).expect("valid");
            env.process.validate().expect("valid");
            env.model.validate().expect("valid");
        }
    }
}
