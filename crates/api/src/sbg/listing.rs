//! List envelopes: `{href, items, links}` plus `X-Total-Matching-Query`.
//!
//! The SDK re-GETs `href` verbatim and follows `links[rel=next]` until there is none, so `href`
//! reproduces the current page with every filter, and `next` appears only while items remain.

use super::SbgError;
use actix_web::HttpResponse;
use ferry_store::page::{Page, PageLimits};
use serde::Deserialize;
use serde_json::{Value, json};

/// CAVATICA's pages: 50 items by default, 100 at most.
const LIMITS: PageLimits = PageLimits {
    default: 50,
    max: 100,
};

/// `offset` and `limit` as CAVATICA takes them: zero-based, limit 50 by default and 100 at most.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn page(self) -> Result<Page, SbgError> {
        Ok(Page::parse(self.offset, self.limit, LIMITS)?)
    }
}

/// Renders one page. `base` is the absolute URL of the list without `offset`/`limit`;
/// `filters` are the query pairs to carry into every link.
pub(crate) fn envelope(
    base: &str,
    filters: &[(String, String)],
    page: Page,
    items: Vec<Value>,
    total: i64,
) -> HttpResponse {
    let link = |offset: i64| {
        let mut pairs = form_pairs(filters);
        pairs.push(format!("offset={offset}"));
        pairs.push(format!("limit={}", page.limit()));
        format!("{base}?{}", pairs.join("&"))
    };
    let shown = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let mut links = Vec::new();
    if page.offset() + shown < total {
        links.push(json!({"href": link(page.offset() + shown), "rel": "next", "method": "GET"}));
    }
    if page.offset() > 0 {
        let previous = (page.offset() - page.limit()).max(0);
        links.push(json!({"href": link(previous), "rel": "prev", "method": "GET"}));
    }
    HttpResponse::Ok()
        .insert_header(("X-Total-Matching-Query", total.to_string()))
        .json(json!({"href": link(page.offset()), "items": items, "links": links}))
}

fn form_pairs(filters: &[(String, String)]) -> Vec<String> {
    filters
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect()
}

/// Form-urlencoding of a query component (the SDK decodes `+` as space).
fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body(response: HttpResponse) -> (Option<String>, Value) {
        let total = response
            .headers()
            .get("x-total-matching-query")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (total, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn next_only_while_items_remain_and_href_reproduces_the_page() {
        let filters = vec![("project".to_owned(), "o/p q".to_owned())];
        let page = Page::new(2, 2);
        let (total, json) = body(envelope(
            "http://h/v2/files",
            &filters,
            page,
            vec![json!(1), json!(2)],
            5,
        ))
        .await;
        assert_eq!(total.as_deref(), Some("5"));
        assert_eq!(
            json["href"],
            "http://h/v2/files?project=o%2Fp+q&offset=2&limit=2"
        );
        assert_eq!(json["links"][0]["rel"], "next");
        assert_eq!(
            json["links"][0]["href"],
            "http://h/v2/files?project=o%2Fp+q&offset=4&limit=2"
        );
        assert_eq!(json["links"][1]["rel"], "prev");

        let last = Page::new(4, 2);
        let (_, json) = body(envelope(
            "http://h/v2/files",
            &filters,
            last,
            vec![json!(5)],
            5,
        ))
        .await;
        let rels: Vec<_> = json["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["rel"].clone())
            .collect();
        assert!(!rels.contains(&json!("next")));
    }

    #[test]
    fn limits_are_cavaticas() {
        let page = |offset, limit| PageQuery { offset, limit }.page();
        assert_eq!(page(None, None).unwrap(), Page::new(0, 50));
        assert_eq!(page(Some(3), Some(100)).unwrap(), Page::new(3, 100));
        let refused = page(None, Some(101)).unwrap_err();
        assert_eq!(
            (refused.code(), refused.message()),
            (90000, "limit must be between 1 and 100.".to_owned())
        );
        assert_eq!(
            page(Some(-1), None).unwrap_err().message(),
            "offset must not be negative."
        );
    }
}
