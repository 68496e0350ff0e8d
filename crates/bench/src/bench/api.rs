//! Ferry's HTTP API as the bench calls it.

use serde_json::{Value, json};

use crate::{Failure, work};

/// Ferry's HTTP API as the bench calls it, as one user.
pub(super) struct Api {
    http: reqwest::blocking::Client,
    base_url: String,
    token: String,
}

impl Api {
    /// The API at `base_url`, called with `token`.
    pub(super) fn new(base_url: &str, token: String) -> Api {
        Api {
            http: reqwest::blocking::Client::new(),
            base_url: base_url.to_owned(),
            token,
        }
    }

    /// POSTs `body` to `path`; fails unless the answer is a success, whose JSON it returns.
    pub(super) fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        let answer = self.post_for_bytes(path, body)?;
        serde_json::from_slice(answer.as_ref())
            .map_err(|e| work(format!("POST {path} answered: {e}")))
    }

    /// POSTs `body` to `path`; fails unless the answer is a success, whose body it returns.
    pub(super) fn post_for_bytes(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<impl AsRef<[u8]> + use<>, Failure> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("X-SBG-Auth-Token", &self.token)
            .json(body)
            .send()
            .map_err(work)?;
        let status = response.status();
        let answer = response.bytes().map_err(work)?;
        if !status.is_success() {
            return Err(work(format!(
                "POST {path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            )));
        }
        Ok(answer)
    }

    /// GETs `path`; fails unless the answer is a success, whose JSON it returns.
    pub(super) fn get(&self, path: &str) -> Result<Value, Failure> {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header("X-SBG-Auth-Token", &self.token)
            .send()
            .map_err(work)?;
        let status = response.status();
        let answer: Value = response.json().map_err(work)?;
        if !status.is_success() {
            return Err(work(format!("GET {path} answered {status}: {answer}")));
        }
        Ok(answer)
    }

    /// A DNAnexus call, `POST /{target}/{method}`.
    pub(super) fn dx(&self, target: &str, method: &str, input: &Value) -> Result<Value, Failure> {
        self.post(&format!("/{target}/{method}"), input)
    }

    /// `POST /v2/action/files/copy` of `file_ids` into the root of `project`; fails unless
    /// every file was copied.
    pub(super) fn copy_batch(&self, project: &str, file_ids: &[String]) -> Result<(), Failure> {
        let outcomes = self.post(
            "/v2/action/files/copy",
            &json!({ "project": project, "file_ids": file_ids }),
        )?;
        let copied = outcomes.as_object().map_or(0, |outcomes| {
            outcomes
                .values()
                .filter(|outcome| outcome["status"] == "OK")
                .count()
        });
        if copied != file_ids.len() {
            return Err(work(format!(
                "the batch copy copied {copied} of {} files",
                file_ids.len()
            )));
        }
        Ok(())
    }
}
