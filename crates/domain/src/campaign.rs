//! Campaigns: what a user may create, and how campaigns are shown.

use serde::{Deserialize, Serialize};

use super::{bounded_multiline_text, bounded_text, present};
use crate::{FieldError, Refusal};

/// How a campaign's searches find creators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchType {
    Keyword,
    Similar,
}

impl SearchType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Similar => "similar",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "keyword" => Some(Self::Keyword),
            "similar" => Some(Self::Similar),
            _ => None,
        }
    }
}

/// `POST /campaigns` body, as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateCampaignBody {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub search_type: SearchType,
}

/// A campaign that may be stored: name trimmed to 1–100 characters, description (trimmed, empty
/// meaning none) at most 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub description: Option<String>,
    pub search_type: SearchType,
}

impl TryFrom<CreateCampaignBody> for NewCampaign {
    type Error = Refusal;

    fn try_from(body: CreateCampaignBody) -> Result<Self, Refusal> {
        let mut errors: Vec<FieldError> = Vec::new();
        let name = bounded_text("name", &body.name, 1, 100, &mut errors);
        let description = body
            .description
            .map(|d| bounded_multiline_text("description", &d, 0, 500, &mut errors))
            .filter(|d| !d.is_empty());
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        Ok(Self {
            name,
            description,
            search_type: body.search_type,
        })
    }
}

/// The statuses a user may set; `draft` and `completed` are set by the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserCampaignStatus {
    Active,
    Archived,
}

impl UserCampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }
}

/// `PATCH /campaigns/{campaignId}` body, as sent: any of the fields, at least one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateCampaignBody {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    /// An empty description removes it.
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub status: Option<UserCampaignStatus>,
}

/// A validated change: `None` leaves a field as it is; `description: Some(None)` removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<UserCampaignStatus>,
}

impl TryFrom<UpdateCampaignBody> for CampaignChange {
    type Error = Refusal;

    fn try_from(body: UpdateCampaignBody) -> Result<Self, Refusal> {
        let mut errors: Vec<FieldError> = Vec::new();
        if body.name.is_none() && body.description.is_none() && body.status.is_none() {
            errors.push(FieldError::new(
                "body",
                "must change at least one of name, description, status",
            ));
        }
        let name = body
            .name
            .map(|n| bounded_text("name", &n, 1, 100, &mut errors));
        let description = body.description.map(|d| {
            Some(bounded_multiline_text(
                "description",
                &d,
                0,
                500,
                &mut errors,
            ))
            .filter(|d| !d.is_empty())
        });
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        Ok(Self {
            name,
            description,
            status: body.status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str, description: Option<&str>) -> CreateCampaignBody {
        CreateCampaignBody {
            name: name.into(),
            description: description.map(Into::into),
            search_type: SearchType::Keyword,
        }
    }

    #[test]
    fn names_are_trimmed_and_counted_in_characters() {
        let c = NewCampaign::try_from(body("  Été ☀️ launch  ", None)).unwrap();
        assert_eq!(c.name, "Été ☀️ launch");
        let hundred = "é".repeat(100);
        assert!(NewCampaign::try_from(body(&hundred, None)).is_ok());
        assert!(NewCampaign::try_from(body(&format!("{hundred}é"), None)).is_err());
    }

    #[test]
    fn a_blank_name_and_a_long_description_are_both_reported() {
        let Err(Refusal::Invalid(details)) =
            NewCampaign::try_from(body("   ", Some(&"x".repeat(501))))
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["name", "description"]);
    }

    #[test]
    fn an_empty_description_is_stored_as_none() {
        let c = NewCampaign::try_from(body("x", Some("  "))).unwrap();
        assert_eq!(c.description, None);
    }
}
