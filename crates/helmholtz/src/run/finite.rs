//! Find a NaN or an infinity anywhere in a value that is about to be reported.
//!
//! JSON has no NaN: `serde_json` writes it as `null`, and a summary then drops it as a figure
//! that was not computed. An evaluation must never pass a NaN off as a result, so the driver
//! walks every evaluation through [`first_non_finite`] before writing it.

use std::fmt;

use serde::Serialize;
use serde::ser;

/// The dotted path (`test.log_likelihood`, `per_class[3]`) of the first float in `value` that
/// is NaN or infinite, if there is one.
pub fn first_non_finite(value: &impl Serialize) -> Option<String> {
    let mut walker = Walker { path: Vec::new() };
    match value.serialize(&mut walker) {
        Err(Stop::Found(path)) => Some(path),
        Ok(()) | Err(Stop::Other) => None,
    }
}

/// Why the walk stopped: a non-finite float at a path, or anything else.
#[derive(Debug)]
enum Stop {
    Found(String),
    Other,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Found(p) => write!(f, "non-finite value at {p}"),
            Stop::Other => f.write_str("not walked"),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop::Other
    }
}

struct Walker {
    path: Vec<String>,
}

impl Walker {
    fn float(&self, v: f64) -> Result<(), Stop> {
        if v.is_finite() {
            Ok(())
        } else {
            let path = self.path.join(".").replace(".[", "[");
            Err(Stop::Found(if path.is_empty() {
                "value".into()
            } else {
                path
            }))
        }
    }

    fn at<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Stop> {
        self.path.push(key);
        let r = value.serialize(&mut *self);
        self.path.pop();
        r
    }
}

macro_rules! ignore {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(fn $name(self, _: $ty) -> Result<(), Stop> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Entries<'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    ignore!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.float(v)
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.at(variant.into(), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Stop> {
        Ok(Seq {
            walker: self,
            index: 0,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Entries<'a>, Stop> {
        Ok(Entries {
            walker: self,
            key: String::new(),
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self)
    }
}

/// A sequence being walked: elements are named by their index.
struct Seq<'a> {
    walker: &'a mut Walker,
    index: usize,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = format!("[{}]", self.index);
        self.index += 1;
        self.walker.at(key, value)
    }
}

/// A map being walked: values are named by their key as JSON writes it.
struct Entries<'a> {
    walker: &'a mut Walker,
    key: String,
}

impl ser::SerializeMap for Entries<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.key = match serde_json::to_value(key) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => "?".into(),
        };
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = std::mem::take(&mut self.key);
        self.walker.at(key, value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

macro_rules! seq_like {
    ($($tr:ident :: $method:ident),*) => {
        $(impl ser::$tr for Seq<'_> {
            type Ok = ();
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                self.element(value)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}
seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! struct_like {
    ($($tr:ident),*) => {
        $(impl ser::$tr for &mut Walker {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                self.at(key.into(), value)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}
struct_like!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Eval {
        log_likelihood: f64,
        entropy: Option<f64>,
        per_class: Vec<f32>,
        held_out: Inner,
    }

    #[derive(Serialize)]
    struct Inner {
        rmse: f64,
    }

    fn eval() -> Eval {
        Eval {
            log_likelihood: -90.5,
            entropy: None,
            per_class: vec![0.5, 0.25],
            held_out: Inner { rmse: 0.1 },
        }
    }

    #[test]
    fn finds_the_path_of_the_first_nan_or_infinity() {
        let mut metrics = std::collections::BTreeMap::new();
        metrics.insert("loss", 1.0);
        assert_eq!(first_non_finite(&metrics), None);
        metrics.insert("kl", f64::NAN);
        assert_eq!(first_non_finite(&metrics).as_deref(), Some("kl"));
        assert_eq!(first_non_finite(&eval()), None);
        let mut e = eval();
        e.held_out.rmse = f64::NAN;
        assert_eq!(first_non_finite(&e).as_deref(), Some("held_out.rmse"));
        let mut e = eval();
        e.per_class[1] = f32::NEG_INFINITY;
        assert_eq!(first_non_finite(&e).as_deref(), Some("per_class[1]"));
        let mut e = eval();
        e.entropy = Some(f64::INFINITY);
        assert_eq!(first_non_finite(&e).as_deref(), Some("entropy"));
        assert_eq!(first_non_finite(&f64::NAN).as_deref(), Some("value"));
    }
}
