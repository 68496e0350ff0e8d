//! Offset pagination: a [`Page`] is checked once where the client's `offset` and `limit` are
//! read ([`Page::parse`]), and every list of the store takes one and applies it, in SQL
//! ([`Paginate::paginate`]) or in memory ([`Page::slice`]).

use diesel::query_dsl::methods::{LimitDsl, OffsetDsl};

/// The items a list shows: `offset` skipped, at most `limit` after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    offset: i64,
    limit: i64,
}

/// The `limit` of a list's pages: what it is when the client gives none, and its most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub default: i64,
    pub max: i64,
}

/// Why a client's `offset` or `limit` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("offset must not be negative.")]
    NegativeOffset,
    #[error("limit must be between 1 and {max}.")]
    LimitOutOfRange { max: i64 },
}

impl Page {
    /// Every item, for lists read whole (not on a client's behalf).
    pub const ALL: Page = Page {
        offset: 0,
        limit: i64::MAX,
    };

    /// A client's `offset` (0 when absent, never negative) and `limit` (`limits.default`
    /// when absent, 1 to `limits.max`).
    pub fn parse(
        offset: Option<i64>,
        limit: Option<i64>,
        limits: PageLimits,
    ) -> Result<Page, PageError> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(limits.default);
        if offset < 0 {
            return Err(PageError::NegativeOffset);
        }
        if !(1..=limits.max).contains(&limit) {
            return Err(PageError::LimitOutOfRange { max: limits.max });
        }
        Ok(Page { offset, limit })
    }

    /// A page that needs no checking: a negative `offset` or `limit` counts as 0.
    pub fn new(offset: i64, limit: i64) -> Page {
        Page {
            offset: offset.max(0),
            limit: limit.max(0),
        }
    }

    pub fn offset(self) -> i64 {
        self.offset
    }

    pub fn limit(self) -> i64 {
        self.limit
    }

    /// Whether the page shows nothing of a list of `total` items.
    pub(crate) fn is_past(self, total: i64) -> bool {
        self.limit == 0 || self.offset >= total
    }

    /// The page of items already in memory.
    pub(crate) fn slice<T>(self, items: &[T]) -> &[T] {
        let start = usize::try_from(self.offset)
            .unwrap_or(usize::MAX)
            .min(items.len());
        let end = start
            .saturating_add(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .min(items.len());
        &items[start..end]
    }

    /// The rest of this page in a second list shown after a first one of `first_total` items,
    /// `shown` of which were on this page.
    pub(crate) fn after(self, first_total: i64, shown: usize) -> Page {
        Page::new(
            self.offset - first_total,
            self.limit - i64::try_from(shown).unwrap_or(self.limit),
        )
    }
}

/// Every item: what a list is read with when no page is asked for.
impl Default for Page {
    fn default() -> Self {
        Page::ALL
    }
}

/// `OFFSET` and `LIMIT` of a page on any Diesel query.
pub(crate) trait Paginate: OffsetDsl<Output: LimitDsl> + Sized {
    fn paginate(self, page: Page) -> <Self::Output as LimitDsl>::Output {
        self.offset(page.offset).limit(page.limit)
    }
}

impl<Q: OffsetDsl<Output: LimitDsl>> Paginate for Q {}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits {
        default: 50,
        max: 100,
    };

    #[test]
    fn a_clients_page_is_checked_and_defaults_to_the_first() {
        let page = |offset, limit| Page::parse(offset, limit, LIMITS);
        assert_eq!(page(None, None), Ok(Page::new(0, 50)));
        assert_eq!(page(Some(3), Some(100)), Ok(Page::new(3, 100)));
        assert_eq!(
            page(None, Some(101)),
            Err(PageError::LimitOutOfRange { max: 100 })
        );
        assert_eq!(
            page(None, Some(0)),
            Err(PageError::LimitOutOfRange { max: 100 })
        );
        assert_eq!(page(Some(-1), Some(0)), Err(PageError::NegativeOffset));
        assert_eq!(
            PageError::LimitOutOfRange { max: 100 }.to_string(),
            "limit must be between 1 and 100."
        );
    }

    #[test]
    fn slices_stop_at_the_end_of_the_items() {
        let items = [1, 2, 3, 4, 5];
        assert_eq!(Page::new(1, 2).slice(&items), [2, 3]);
        assert_eq!(Page::new(4, 10).slice(&items), [5]);
        assert!(Page::new(9, 10).slice(&items).is_empty());
        assert_eq!(Page::ALL.slice(&items), items);
    }

    #[test]
    fn a_second_list_gets_what_the_first_left_of_the_page() {
        // Offset 3 of 5 folders shows 2 of them, then the first 8 files.
        assert_eq!(Page::new(3, 10).after(5, 2), Page::new(0, 8));
        // Offset 7 of 5 folders shows none, then files from the third on.
        assert_eq!(Page::new(7, 10).after(5, 0), Page::new(2, 10));
        assert!(Page::new(0, 2).after(5, 2).is_past(100));
    }
}
