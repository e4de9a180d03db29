//! The conformance suite lives in `tests/it`; this library is empty on purpose.
