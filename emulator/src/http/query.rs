//! Query strings, read as leniently as Cordial reads them, and the page of a
//! paged `GET` they ask for.

use std::collections::HashMap;

/// Query parameters by name (the last one wins). A malformed query yields what
/// could be decoded rather than axum's plain-text 400, which Cordial never sends.
pub fn query(raw: Option<String>) -> HashMap<String, String> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The page a paged `GET` asks for with `page` (1-based) and `per_page`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub number: usize,
    pub size: usize,
}

impl Page {
    /// `page` (default 1) and `per_page` (default `default_size`) of the query; a
    /// value that is not a positive number counts as absent.
    pub fn read(q: &HashMap<String, String>, default_size: usize) -> Page {
        let number = |name: &str| {
            q.get(name)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
        };
        Page {
            number: number("page").unwrap_or(1),
            size: number("per_page").unwrap_or(default_size),
        }
    }

    /// The items of this page.
    pub fn of<I: IntoIterator>(self, items: I) -> impl Iterator<Item = I::Item> {
        items
            .into_iter()
            .skip((self.number - 1).saturating_mul(self.size))
            .take(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_leniently_and_cuts_its_items() {
        let page = |raw: &str| Page::read(&query(Some(raw.into())), 25);
        let read = |raw: &str| (page(raw).number, page(raw).size);
        assert_eq!(read(""), (1, 25));
        assert_eq!(read("page=0&per_page=x"), (1, 25));
        assert_eq!(read("page=%202&per_page=3"), (2, 3));
        let items: Vec<u32> = page("page=2&per_page=3").of(1..=7).collect();
        assert_eq!(items, [4, 5, 6]);
        assert_eq!(page("page=4&per_page=3").of(1..=7).count(), 0);
    }
}
