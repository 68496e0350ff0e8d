//! The SBG dialect's query strings: a parameter that takes one value and is given several times
//! takes the last one, on every route, as Django's `QueryDict` (CAVATICA's API) does. The
//! parameters that take several (`name` and `tag` of `/files`) are read by their route.

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::SbgError;

/// The request's query as `T`, each repeated parameter at its last value: the one way the
/// dialect's routes read a query into a type.
#[derive(Debug)]
pub(crate) struct LastValues<T>(pub T);

impl<T> LastValues<T> {
    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for LastValues<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for LastValues<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = last_values(req.query_string());
        ready(
            web::Query::<T>::from_query(&query)
                .map(|parsed| LastValues(parsed.into_inner()))
                .map_err(|e| SbgError::bad_request(format!("Malformed query string: {e}.")).into()),
        )
    }
}

/// `query` with each parameter once, at its last value, in the order of first mention.
fn last_values(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match position.get(key.as_ref()) {
            Some(&at) => pairs[at].1 = value.into_owned(),
            None => {
                position.insert(key.clone().into_owned(), pairs.len());
                pairs.push((key.into_owned(), value.into_owned()));
            }
        }
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::last_values;

    #[test]
    fn a_repeated_parameter_keeps_its_last_value_where_it_first_came() {
        assert_eq!(
            last_values("offset=5&limit=7&offset=0&name=a+b&limit=1"),
            "offset=0&limit=1&name=a+b"
        );
        assert_eq!(last_values(""), "");
        assert_eq!(last_values("x=%00"), "x=%00");
    }
}
