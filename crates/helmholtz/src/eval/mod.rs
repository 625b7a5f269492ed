//! Evaluation tools shared by the families: what a model is scored with when its likelihood is
//! not the whole story, or not available.
//!
//! - [`parzen`]: the Gaussian Parzen-window log-likelihood of samples (Goodfellow et al. 2014),
//!   an estimate, not a bound.
//! - [`frechet`]: the Fréchet distance between Gaussians fitted to two sets of features.
//! - [`classifier`]: a small MLP classifier whose predicted classes measure the mode coverage of
//!   samples and whose hidden features feed the Fréchet distance.
//! - [`roc`]: the area under the ROC curve of an anomaly score.
//! - [`calibration`]: confidence bins and the expected calibration error of class probabilities.
//! - [`pca`]: the first two principal components, for pictures of codes.

pub mod calibration;
pub mod classifier;
pub mod frechet;
pub mod parzen;
pub mod pca;
pub mod roc;
