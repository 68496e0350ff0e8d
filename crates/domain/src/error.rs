//! The one error type of the domain: a value from outside did not pass validation.
//!
//! Messages are short and human, because the API layer shows them to API users as they are.

/// Why a value could not be turned into a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// `what` names the kind of value ("file name", "folder path", ...), `reason` says what is
    /// wrong with it.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Implements `Display`, `FromStr`, `AsRef<str>`, `Serialize` and `Deserialize` for a newtype
/// that has `fn parse(&str) -> Result<Self, DomainError>` and `fn as_str(&self) -> &str`.
///
/// Deserialising goes through `parse`, so a value that comes in as JSON is as valid as one
/// built in code.
macro_rules! string_newtype {
    ($ty:ty) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::error::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::parse(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                <$ty>::parse(s.as_str()).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use string_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_value_and_the_reason() {
        let e = DomainError::invalid("file name", "must not contain '/'");
        assert_eq!(e.to_string(), "invalid file name: must not contain '/'");
        assert_eq!(
            e,
            DomainError::Invalid {
                what: "file name",
                reason: "must not contain '/'".into()
            }
        );
    }
}
