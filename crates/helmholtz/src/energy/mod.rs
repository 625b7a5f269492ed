//! Energy-based models: `p(x) = exp(-E(x)) / Z`.

pub mod boltzmann;
pub mod hopfield;
pub mod ising;
pub mod rbm;
