//! Enums of keywords (`--visible bernoulli|gaussian`): one declaration gives the names a
//! parameter accepts, `FromStr` (with aliases) and `Display`.

/// For an enum of unit variants, `keywords!(Type, "param", { Variant => "name" | "alias", ... })`
/// defines `Type::NAMES` (the names, in order), `FromStr` (names and aliases; anything else is
/// [`crate::Error::InvalidParam`] for `param`, listing the names) and `Display` (the name).
macro_rules! keywords {
    ($ty:ident, $param:literal, { $($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)? }) => {
        impl $ty {
            /// The names this parameter accepts.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(s: &str) -> $crate::Result<Self> {
                match s {
                    $($name $(| $alias)* => Ok(Self::$variant),)+
                    other => Err($crate::Error::param(
                        $param,
                        format!("`{other}` is not one of {}", Self::NAMES.join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    $(Self::$variant => $name,)+
                })
            }
        }
    };
}
pub(crate) use keywords;
