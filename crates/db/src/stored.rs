//! Text columns read as the code's enums: an unknown stored value fails the read instead of
//! turning into a default.

use domain::{campaign::SearchType, plan::Plan, search::JobStatus, search::Platform};

/// A text column read as one of the code's enums; an unknown value fails the read.
pub(crate) struct Stored<T>(pub T);

pub(crate) trait StoredName: Sized {
    const WHAT: &'static str;
    fn from_stored(s: &str) -> Option<Self>;
}

impl StoredName for Platform {
    const WHAT: &'static str = "platform";
    fn from_stored(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredName for SearchType {
    const WHAT: &'static str = "search type";
    fn from_stored(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredName for Plan {
    const WHAT: &'static str = "plan";
    fn from_stored(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredName for JobStatus {
    const WHAT: &'static str = "job status";
    fn from_stored(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl<'a, T: StoredName> tokio_postgres::types::FromSql<'a> for Stored<T> {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
        T::from_stored(text)
            .map(Stored)
            .ok_or_else(|| format!("unknown {} {text:?}", T::WHAT).into())
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <&str as tokio_postgres::types::FromSql>::accepts(ty)
    }
}
