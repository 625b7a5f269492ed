//! Energy-based models: `p(x) = exp(-E(x)) / Z`.

pub mod rbm;
