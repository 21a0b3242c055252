//! Who is asking (a role and the part of the country it covers) and what each role may see.
use crate::scope::{Scope, ALL_UNITS};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in one province.
    Leader,
    /// One district and its communes.
    Chair,
    /// A machine token that may only post events.
    Ingest,
    /// Users, tokens, boundaries, the audit log; every province.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Chair => "chair",
            Role::Ingest => "ingest",
            Role::Admin => "admin",
        }
    }
}

/// A role's scope (the type lives in [`crate::scope`]; what each role covers is decided here).
impl Scope {
    pub fn of(role: Role, unit: Option<&str>) -> Scope {
        match (role, unit) {
            (Role::Admin, _) => Scope::Everything,
            (Role::Leader, Some(p)) => Scope::Province(p.to_string()),
            (Role::Chair, Some(d)) => Scope::District(d.to_string()),
            (Role::Ingest, None | Some(ALL_UNITS)) => Scope::Everything,
            (Role::Ingest, Some(list)) => {
                Scope::Units(list.split(',').map(|u| u.trim().to_string()).collect())
            }
            _ => Scope::Nothing,
        }
    }

    /// The unit the scope is bound to (a leader's province, a chair's district).
    pub fn unit(&self) -> Option<&str> {
        match self {
            Scope::Province(u) | Scope::District(u) => Some(u),
            Scope::Everything | Scope::Units(_) | Scope::Nothing => None,
        }
    }

    /// Whether a role is given the unit it needs (a leader's province, a chair's district, an
    /// ingest token's units or `*`).
    pub fn check(role: Role, unit: Option<&str>) -> Result<(), String> {
        // A unit is stored as its key: the code, with the era of today marked (`48@2025`).
        let code = |u: &str| -> Result<(), String> {
            let bare = app::era::code_of(u);
            let era = app::era::Era::of_key(u);
            if era.key(bare).as_deref() == Some(u) {
                Ok(())
            } else {
                Err(format!("unit: '{u}' is not a unit code"))
            }
        };
        match (role, unit) {
            (Role::Leader, None) => Err("unit: a leader needs --unit <province code>".into()),
            (Role::Chair, None) => Err(
                "unit: a chair needs --unit <commune code> (a district code with --before-2025)".into(),
            ),
            (Role::Ingest, None) => Err(format!(
                "unit: an ingest token needs --unit with the units it writes for (e.g. 48, or 48,15), \
                 or --unit '{ALL_UNITS}' for every unit"
            )),
            (Role::Admin, Some(_)) => {
                Err("unit: the admin role covers no single unit; leave --unit out".into())
            }
            (Role::Ingest, Some(ALL_UNITS)) => Ok(()),
            (Role::Ingest, Some(list)) => {
                let units: Vec<&str> = list.split(',').map(str::trim).collect();
                if units.len() > 100 {
                    return Err("unit: at most 100 units per token".into());
                }
                units.into_iter().try_for_each(code)
            }
            (_, Some(u)) => code(u),
            _ => Ok(()),
        }
    }
}

/// A stored unit (or comma-separated list, or `*`) as people read it: the public codes, and the
/// era they are units of (`None` for `*`).
pub fn public_unit(stored: &str) -> (String, Option<app::era::Era>) {
    if stored == ALL_UNITS {
        return (stored.to_string(), None);
    }
    let codes: Vec<&str> = stored.split(',').map(app::era::code_of).collect();
    let era = stored.split(',').next().map(app::era::Era::of_key);
    (codes.join(","), era)
}

/// The caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User {
        username: String,
        role: Role,
        scope: Scope,
    },
    Token {
        id: String,
        name: String,
        role: Role,
        scope: Scope,
    },
}

impl Principal {
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Anonymous => None,
            Principal::User { role, .. } | Principal::Token { role, .. } => Some(*role),
        }
    }

    pub fn scope(&self) -> Scope {
        match self {
            Principal::Anonymous => Scope::Nothing,
            Principal::User { scope, .. } | Principal::Token { scope, .. } => scope.clone(),
        }
    }

    /// Leaders, chairs and admins read dossier-level data (within their scope); ingest
    /// tokens and the public never do.
    pub fn reads_dossiers(&self) -> bool {
        matches!(self.role(), Some(Role::Leader | Role::Chair | Role::Admin))
    }

    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Principal::User {
                role: Role::Admin,
                ..
            }
        )
    }

    /// A short name for the audit log.
    pub fn actor(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::User { username, .. } => format!("user:{username}"),
            Principal::Token { id, .. } => format!("token:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{Today, UnitPlace};

    fn place(code: &str, province: &str, district: Option<&str>) -> UnitPlace {
        UnitPlace {
            code: code.into(),
            province_code: province.into(),
            district_code: district.map(str::to_string),
            today: Today::default(),
        }
    }

    #[test]
    fn todays_leaders_and_chairs_cover_the_old_units_that_went_into_theirs() {
        // Old commune 20290 of Quảng Nam went into commune 20341 of the new Đà Nẵng.
        let old = UnitPlace {
            today: Today {
                province: Some("48@2025".into()),
                communes: vec!["20341@2025".into()],
            },
            ..place("20290", "49", Some("502"))
        };
        // A chair given the province's code by mistake covers no old unit.
        assert!(!Scope::of(Role::Chair, Some("48@2025")).covers(&old));
        assert!(Scope::of(Role::Leader, Some("48@2025")).covers(&old));
        assert!(Scope::of(Role::Chair, Some("20341@2025")).covers(&old));
        assert!(!Scope::of(Role::Chair, Some("20356@2025")).covers(&old));
        // The old and the new unit 48 are two units: the old leader's scope is the old one.
        assert!(!Scope::of(Role::Leader, Some("48")).covers(&old));
        let todays = place("20341@2025", "48@2025", None);
        assert!(Scope::of(Role::Chair, Some("20341@2025")).covers(&todays));
        assert!(!Scope::of(Role::Leader, Some("49")).covers(&todays));
        assert!(Scope::check(Role::Leader, Some("48@2025")).is_ok());
        assert!(Scope::check(Role::Leader, Some("48@2024")).is_err());
    }

    #[test]
    fn a_chair_covers_their_district_and_its_communes_only() {
        let chair = Scope::of(Role::Chair, Some("502"));
        assert!(chair.covers(&place("502", "49", Some("502"))));
        assert!(chair.covers(&place("20290", "49", Some("502"))));
        assert!(!chair.covers(&place("503", "49", Some("503"))));
        assert!(!chair.covers(&place("20300", "49", Some("503"))));
        assert!(!chair.covers(&place("49", "49", None)), "not the province");
    }

    #[test]
    fn a_leader_covers_their_province_and_nothing_else() {
        let leader = Scope::of(Role::Leader, Some("49"));
        assert!(leader.covers(&place("49", "49", None)));
        assert!(leader.covers(&place("20290", "49", Some("502"))));
        assert!(!leader.covers(&place("80", "80", None)));
        assert!(Scope::Everything.covers(&place("80", "80", None)));
        assert!(!Scope::Nothing.covers(&place("49", "49", None)));
    }

    #[test]
    fn roles_need_the_unit_that_fits() {
        assert!(Scope::check(Role::Leader, Some("49")).is_ok());
        assert!(Scope::check(Role::Leader, None).is_err());
        assert!(Scope::check(Role::Admin, Some("49")).is_err());
        assert!(Scope::check(Role::Chair, Some("5'02")).is_err());
        assert!(Scope::check(Role::Ingest, None).is_err());
        assert!(Scope::check(Role::Ingest, Some("*")).is_ok());
        assert!(Scope::check(Role::Ingest, Some("48,15")).is_ok());
        assert!(Scope::check(Role::Ingest, Some("48,")).is_err());
    }

    #[test]
    fn an_ingest_token_covers_its_units_and_everything_under_them() {
        let token = Scope::of(Role::Ingest, Some("49,802"));
        assert!(token.covers(&place("49", "49", None)));
        assert!(token.covers(&place("20290", "49", Some("502"))));
        assert!(token.covers(&place("802", "80", Some("802"))));
        assert!(token.covers(&place("27700", "80", Some("802"))));
        assert!(
            !token.covers(&place("80", "80", None)),
            "not the province of 802"
        );
        assert!(!token.covers(&place("803", "80", Some("803"))));
        assert_eq!(Scope::of(Role::Ingest, Some("*")), Scope::Everything);
        assert_eq!(Scope::of(Role::Ingest, None), Scope::Everything);
    }
}
