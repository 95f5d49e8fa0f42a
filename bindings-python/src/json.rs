//! JSON as Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`), exactly as `json.loads`
//! gives them. The core validates; the binding never parses JSON itself: serde_json reads the text and a
//! serde visitor only turns what it reports into Python objects (type conversion, like `pythonize`).

use std::cell::RefCell;
use std::fmt;

use anchor_webhooks::serde_json::Value;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Converts an already parsed JSON value (the core's typed views hand these out).
pub fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                PyInt::new(py, int).into_any()
            } else if let Some(int) = number.as_u64() {
                PyInt::new(py, int).into_any()
            } else {
                PyFloat::new(py, number.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(PyString::new(py, key), to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Python objects for JSON text the core has already validated: what `json.loads(text)` returns (integers
/// of any size, correctly rounded floats, a repeated key at its first position with its last value).
///
/// serde_json drives the conversion. Where its report cannot tell what `json.loads` would give (an integer
/// beyond 64 bits arrives as a float, `-0` as `-0.0`) or where it refuses what Python accepts (`1e400`,
/// a lone surrogate escape), the conversion is abandoned for `json.loads` itself: slower, equally right.
///
/// `text` is the core's already UTF-8-checked text (`Event::raw_data_str`), so serde_json reads it as a `str`
/// without checking every string's UTF-8 again.
pub fn from_validated<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let failure = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let converted = ValueSeed { py, failure: &failure }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (converted, failure.into_inner()) {
        (_, Some(Failure::Python(error))) => Err(error),
        (Ok(value), None) => Ok(value),
        (_, Some(Failure::Ambiguous)) | (Err(_), None) => json_loads(py, text),
    }
}

fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let loads = LOADS.import(py, "json", "loads")?;
    loads.call1((PyBytes::new(py, text.as_bytes()),))
}

/// Why the visitor stopped: a Python error to raise, or a value only `json.loads` can reproduce.
enum Failure {
    Python(PyErr),
    Ambiguous,
}

/// Stops the conversion: the serde error only unwinds serde_json; `from_validated` reads `failure`.
#[derive(Clone, Copy)]
struct Context<'a> {
    failure: &'a RefCell<Option<Failure>>,
}

impl Context<'_> {
    fn stop<E: de::Error>(self, failure: Failure) -> E {
        self.failure.borrow_mut().get_or_insert(failure);
        E::custom("conversion stopped")
    }

    fn python<T, E: de::Error>(self, result: PyResult<T>) -> Result<T, E> {
        result.map_err(|error| self.stop(Failure::Python(error)))
    }
}

struct ValueSeed<'py, 'a> {
    py: Python<'py>,
    failure: &'a RefCell<Option<Failure>>,
}

impl<'de, 'py> DeserializeSeed<'de> for ValueSeed<'py, '_> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor { py: self.py, context: Context { failure: self.failure } })
    }
}

struct ValueVisitor<'py, 'a> {
    py: Python<'py>,
    context: Context<'a>,
}

impl<'py, 'a> ValueVisitor<'py, 'a> {
    fn seed(&self) -> ValueSeed<'py, 'a> {
        ValueSeed { py: self.py, failure: self.context.failure }
    }
}

/// 2**63: from here on an integral float may stand for an integer serde_json could not hold in 64 bits.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl<'de, 'py> Visitor<'de> for ValueVisitor<'py, '_> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, value).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.py, value).into_any())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.py, value).into_any())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // serde_json reports `-0` as -0.0 and an integer beyond 64 bits as its nearest float: json.loads
        // gives an int for both, but `-0.0` and `1e19` are floats in the text; only the text can tell.
        let integral_and_huge = value.abs() >= TWO_POW_63 && value.fract() == 0.0;
        if integral_and_huge || (value == 0.0 && value.is_sign_negative()) {
            return Err(self.context.stop(Failure::Ambiguous));
        }
        Ok(PyFloat::new(self.py, value).into_any())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, value).into_any())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0));
        while let Some(value) = items.next_element_seed(self.seed())? {
            values.push(value);
        }
        self.context.python(PyList::new(self.py, values).map(Bound::into_any))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = entries.next_key_seed(KeySeed { py: self.py })? {
            let value = entries.next_value_seed(self.seed())?;
            // A repeated key keeps its first position and takes the last value, as in json.loads.
            self.context.python(dict.set_item(key, value))?;
        }
        Ok(dict.into_any())
    }
}

/// Object keys: always strings in JSON.
struct KeySeed<'py> {
    py: Python<'py>,
}

impl<'de, 'py> DeserializeSeed<'de> for KeySeed<'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for KeySeed<'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, value))
    }
}
