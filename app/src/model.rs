//! Plain data types that the server and the browser exchange (fixed-width integers: WASM is 32-bit).
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use crate::era::{Era, UnitsView};

/// Administrative level of a unit, and of the office that handles a dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    District,
    Commune,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Province, Level::District, Level::Commune];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::District => "district",
            Level::Commune => "commune",
        }
    }

    /// The level one step down, where drilling into a unit of this level leads.
    pub fn child(self) -> Option<Level> {
        match self {
            Level::Province => Some(Level::District),
            Level::District => Some(Level::Commune),
            Level::Commune => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "province" => Ok(Level::Province),
            "district" => Ok(Level::District),
            "commune" => Ok(Level::Commune),
            other => Err(format!(
                "unknown level '{other}': expected province, district or commune"
            )),
        }
    }
}

/// How a dossier reached the one-stop office.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Online,
    Direct,
    Postal,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Online, Channel::Direct, Channel::Postal];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Direct => "direct",
            Channel::Postal => "postal",
        }
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "online" => Ok(Channel::Online),
            "direct" => Ok(Channel::Direct),
            "postal" => Ok(Channel::Postal),
            other => Err(format!(
                "unknown channel '{other}': expected online, direct or postal"
            )),
        }
    }
}

/// The longest period one query may cover: three years. Every entry (the API, the server
/// functions and pages, the live stream, exports, late lists) builds its period through
/// [`Period::new`] or reads it through `Deserialize`, both of which hold to it, so this one
/// limit bounds the work of any request (a weekly trend of three years is 157 buckets).
pub const MAX_PERIOD_DAYS: i64 = 3 * 366;

/// An inclusive range of local dates (Asia/Ho_Chi_Minh). Built by [`Period::new`] (or read,
/// which goes through it): both dates in the years of [`crate::iso::check_date`], `from` not
/// after `to`, at most [`MAX_PERIOD_DAYS`] long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodFields")]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A period as written, before [`Period::new`] has checked it.
#[derive(Deserialize)]
struct PeriodFields {
    #[serde(deserialize_with = "crate::iso::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    to: NaiveDate,
}

impl TryFrom<PeriodFields> for Period {
    type Error = String;

    fn try_from(p: PeriodFields) -> Result<Self, String> {
        Period::new(p.from, p.to)
    }
}

impl Period {
    /// The one gate for a period from outside; the message names the field at fault.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, String> {
        use crate::iso::{in_range, FIRST_YEAR, LAST_YEAR};
        for (name, d) in [("from", from), ("to", to)] {
            if !in_range(d) {
                return Err(format!(
                    "{name}: {d} is outside the dates served ({FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31)"
                ));
            }
        }
        if from > to {
            return Err(format!("from: 'from' ({from}) is after 'to' ({to})"));
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(format!(
                "from: a period covers at most {MAX_PERIOD_DAYS} days (three years); {from} to {to} is longer"
            ));
        }
        Ok(Period { from, to })
    }

    /// The period of the same length that ends the day before this one starts. `None` only
    /// where the calendar ends, which a checked period never reaches.
    pub fn previous(&self) -> Option<Period> {
        let days = chrono::TimeDelta::try_days((self.to - self.from).num_days())?;
        let to = self.from.pred_opt()?;
        let from = to.checked_sub_signed(days)?;
        Some(Period { from, to })
    }

    /// The same dates a year earlier (29 February becomes the 28th).
    pub fn year_earlier(&self) -> Option<Period> {
        let back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(12));
        Some(Period {
            from: back(self.from)?,
            to: back(self.to)?,
        })
    }
}

/// What a stats query asks for: which units to list, over which period, with which filters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatsQuery {
    pub period: Period,
    /// The level of the units listed.
    pub level: Level,
    /// List only the children of this unit; all units of `level` when absent.
    pub parent: Option<String>,
    /// Keep only dossiers in this sector (field).
    pub field: Option<String>,
    pub channel: Option<Channel>,
    /// Keep only dossiers handled at this administrative level.
    pub dossier_level: Option<Level>,
    /// Which units the figures are shown on (`units=`): today's or those of the period's time.
    #[serde(default)]
    pub units: UnitsView,
}

impl StatsQuery {
    /// The query string (with its `?`) that `/api/v1/stats` and `/api/v1/stream` read as this
    /// query: the live stream of a dashboard asks for exactly the figures the page shows.
    pub fn to_query_string(&self) -> String {
        let mut pairs = vec![
            ("from", self.period.from.to_string()),
            ("to", self.period.to.to_string()),
            ("level", self.level.as_str().to_string()),
        ];
        let optional = [
            ("parent", self.parent.clone()),
            ("field", self.field.clone()),
            ("channel", self.channel.map(|c| c.as_str().to_string())),
            (
                "dossier_level",
                self.dossier_level.map(|l| l.as_str().to_string()),
            ),
            (
                "units",
                (self.units != UnitsView::Auto).then(|| self.units.as_str().to_string()),
            ),
        ];
        pairs.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        let joined: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect();
        format!("?{}", joined.join("&"))
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (sector names are Vietnamese).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The raw counts behind every indicator; rates are derived from them, never stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub received: u64,
    pub received_online: u64,
    pub received_with_fee: u64,
    pub paid_online: u64,
    pub resolved: u64,
    pub resolved_early: u64,
    pub resolved_on_time: u64,
    pub resolved_late: u64,
    /// Sum over resolved dossiers of (resolved date − received date) in days.
    pub resolved_days_total: i64,
    pub pending: u64,
    pub pending_overdue: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.received += other.received;
        self.received_online += other.received_online;
        self.received_with_fee += other.received_with_fee;
        self.paid_online += other.paid_online;
        self.resolved += other.resolved;
        self.resolved_early += other.resolved_early;
        self.resolved_on_time += other.resolved_on_time;
        self.resolved_late += other.resolved_late;
        self.resolved_days_total += other.resolved_days_total;
        self.pending += other.pending;
        self.pending_overdue += other.pending_overdue;
    }
}

// Named `Figures` in the server's OpenAPI document; the doc comments are its descriptions.
// Written whole everywhere but in pages (`crate::codec`): there a rate that its counts give
// again is left out, and the reader derives it again from the counts, to the same bits (one
// division of two integers as `f64`). Seventeen-digit fractions are most of what a row costs
// compressed, and the dashboard's page carries hundreds of rows.
/// One row of the stats answer: a unit's counts and the indicators derived from them.
// Serialize: `row_form`, which borrows the row rather than copying it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "row_form::Wire<'static>")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(as = Figures))]
pub struct IndicatorRow {
    /// Official unit code; leading zeros kept.
    pub code: String,
    pub name: String,
    pub received: u64,
    pub resolved: u64,
    pub resolved_early: u64,
    pub resolved_on_time: u64,
    pub resolved_late: u64,
    pub pending: u64,
    pub pending_overdue: u64,
    pub received_online: u64,
    pub received_with_fee: u64,
    pub paid_online: u64,
    /// (resolved_early + resolved_on_time) / resolved: a fraction 0..1; null when its
    /// denominator is 0.
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1, required = true))]
    pub on_time_rate: Option<f64>,
    /// A fraction 0..1; null when its denominator is 0.
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1, required = true))]
    pub late_rate_incl_pending: Option<f64>,
    /// A fraction 0..1; null when its denominator is 0.
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1, required = true))]
    pub online_rate: Option<f64>,
    /// A fraction 0..1; null when its denominator is 0.
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1, required = true))]
    pub online_payment_rate: Option<f64>,
    /// Mean days from reception to resolution; null when nothing was resolved.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub avg_days: Option<f64>,
    /// Dossiers received in the period by old communes split at the 2025 reform, counted here
    /// by equal shares (see `ConversionNote`); 0 when every count is exact.
    #[serde(default)]
    pub apportioned: u64,
}

impl IndicatorRow {
    pub fn from_counts(code: impl Into<String>, name: impl Into<String>, c: &Counts) -> Self {
        IndicatorRow {
            code: code.into(),
            name: name.into(),
            received: c.received,
            resolved: c.resolved,
            resolved_early: c.resolved_early,
            resolved_on_time: c.resolved_on_time,
            resolved_late: c.resolved_late,
            pending: c.pending,
            pending_overdue: c.pending_overdue,
            received_online: c.received_online,
            received_with_fee: c.received_with_fee,
            paid_online: c.paid_online,
            on_time_rate: crate::indicators::on_time_rate(c),
            late_rate_incl_pending: crate::indicators::late_rate_incl_pending(c),
            online_rate: crate::indicators::online_rate(c),
            online_payment_rate: crate::indicators::online_payment_rate(c),
            avg_days: crate::indicators::avg_days(c),
            apportioned: 0,
        }
    }

    /// The four rates as the row's counts give them: on time, late (pending included), online,
    /// paid online.
    fn derived_rates(&self) -> [Option<f64>; 4] {
        let c = Counts {
            received: self.received,
            resolved: self.resolved,
            resolved_early: self.resolved_early,
            resolved_on_time: self.resolved_on_time,
            resolved_late: self.resolved_late,
            pending: self.pending,
            pending_overdue: self.pending_overdue,
            received_online: self.received_online,
            received_with_fee: self.received_with_fee,
            paid_online: self.paid_online,
            ..Counts::default()
        };
        [
            crate::indicators::on_time_rate(&c),
            crate::indicators::late_rate_incl_pending(&c),
            crate::indicators::online_rate(&c),
            crate::indicators::online_payment_rate(&c),
        ]
    }

    pub fn indicator(&self, indicator: Indicator) -> Option<f64> {
        match indicator {
            Indicator::OnTimeRate => self.on_time_rate,
            Indicator::LateRateInclPending => self.late_rate_incl_pending,
            Indicator::OnlineRate => self.online_rate,
            Indicator::OnlinePaymentRate => self.online_payment_rate,
            Indicator::AvgDays => self.avg_days,
        }
    }
}

// Whether rows are being written for a page: set by `in_page_form`, read by `row_form`.
#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static PAGE_FORM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `write` with [`IndicatorRow`]s written in the pages' short form (the rates their counts
/// give left out). Only the pages' codec calls it (the data a page carries and the answers of
/// the server functions under `/api/fn`, which only the pages read): the API's answers, the
/// live stream and the deliveries write rows whole.
#[cfg(not(target_arch = "wasm32"))]
pub fn in_page_form<T>(write: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            PAGE_FORM.with(|f| f.set(self.0));
        }
    }
    let _restore = Restore(PAGE_FORM.with(|f| f.replace(true)));
    write()
}

/// How an [`IndicatorRow`] is written and read: whole, or in a page without the rates its
/// counts give (an absent rate is derived on reading; a rate present, `null` included, is kept).
mod row_form {
    use super::IndicatorRow;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::borrow::Cow;

    fn page_form() -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        {
            super::PAGE_FORM.with(std::cell::Cell::get)
        }
        #[cfg(target_arch = "wasm32")]
        {
            false
        }
    }

    /// A rate that may be left out: `None` is not written, `Some(None)` is `null`.
    pub(super) type Rate = Option<Option<f64>>;

    /// A row as it is written (borrowing the row's names) and read.
    #[derive(Serialize, Deserialize)]
    pub struct Wire<'a> {
        code: Cow<'a, str>,
        name: Cow<'a, str>,
        received: u64,
        resolved: u64,
        resolved_early: u64,
        resolved_on_time: u64,
        resolved_late: u64,
        pending: u64,
        pending_overdue: u64,
        received_online: u64,
        received_with_fee: u64,
        paid_online: u64,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        on_time_rate: Rate,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        late_rate_incl_pending: Rate,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        online_rate: Rate,
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        online_payment_rate: Rate,
        avg_days: Option<f64>,
        #[serde(default)]
        apportioned: u64,
    }

    impl Serialize for IndicatorRow {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let derived = self.derived_rates();
            let short = page_form();
            let rate = |own: Option<f64>, derived: Option<f64>| {
                // Compared bit for bit: the reader's division gives exactly `derived`.
                let same = own.map(f64::to_bits) == derived.map(f64::to_bits);
                (!(short && same)).then_some(own)
            };
            Wire {
                code: Cow::Borrowed(&self.code),
                name: Cow::Borrowed(&self.name),
                received: self.received,
                resolved: self.resolved,
                resolved_early: self.resolved_early,
                resolved_on_time: self.resolved_on_time,
                resolved_late: self.resolved_late,
                pending: self.pending,
                pending_overdue: self.pending_overdue,
                received_online: self.received_online,
                received_with_fee: self.received_with_fee,
                paid_online: self.paid_online,
                on_time_rate: rate(self.on_time_rate, derived[0]),
                late_rate_incl_pending: rate(self.late_rate_incl_pending, derived[1]),
                online_rate: rate(self.online_rate, derived[2]),
                online_payment_rate: rate(self.online_payment_rate, derived[3]),
                avg_days: self.avg_days,
                apportioned: self.apportioned,
            }
            .serialize(s)
        }
    }

    /// Tells a rate written as `null` (kept) from one left out (derived).
    pub(super) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        Option::<f64>::deserialize(d).map(Some)
    }

    /// `row` with the rates read (on time, late, online, paid online), each left out one
    /// derived from its counts.
    pub(super) fn with_rates(mut row: IndicatorRow, read: [Rate; 4]) -> IndicatorRow {
        let derived = row.derived_rates();
        row.on_time_rate = read[0].unwrap_or(derived[0]);
        row.late_rate_incl_pending = read[1].unwrap_or(derived[1]);
        row.online_rate = read[2].unwrap_or(derived[2]);
        row.online_payment_rate = read[3].unwrap_or(derived[3]);
        row
    }

    impl From<Wire<'static>> for IndicatorRow {
        fn from(r: Wire<'static>) -> IndicatorRow {
            let row = IndicatorRow {
                code: r.code.into_owned(),
                name: r.name.into_owned(),
                received: r.received,
                resolved: r.resolved,
                resolved_early: r.resolved_early,
                resolved_on_time: r.resolved_on_time,
                resolved_late: r.resolved_late,
                pending: r.pending,
                pending_overdue: r.pending_overdue,
                received_online: r.received_online,
                received_with_fee: r.received_with_fee,
                paid_online: r.paid_online,
                on_time_rate: None,
                late_rate_incl_pending: None,
                online_rate: None,
                online_payment_rate: None,
                avg_days: r.avg_days,
                apportioned: r.apportioned,
            };
            with_rates(
                row,
                [
                    r.on_time_rate,
                    r.late_rate_incl_pending,
                    r.online_rate,
                    r.online_payment_rate,
                ],
            )
        }
    }
}

/// The answer of `GET /api/v1/stats` and of the dashboard's stats server function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatsResponse {
    #[serde(deserialize_with = "crate::iso::date")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    pub to: NaiveDate,
    pub level: Level,
    pub units: Vec<IndicatorRow>,
    pub total: IndicatorRow,
    /// Whose units are listed: those before the 2025 reform (`before2025`), or today's
    /// (`from2025`).
    #[serde(default = "era_from_2025")]
    pub era: Era,
    /// On today's units, how the old units' dossiers were counted (null when none were).
    #[serde(default)]
    pub conversion: Option<ConversionNote>,
}

fn era_from_2025() -> Era {
    Era::From2025
}

/// How a figure on today's units was built from the old units' dossiers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConversionNote {
    /// The rule for communes split between several new ones: `equal_shares` (each successor
    /// counts an equal share of the old commune's dossiers, in whole dossiers).
    pub rule: String,
    /// Dossiers received in the period by split communes, shared out over the listed units.
    pub apportioned: u64,
    /// Old communes the conversion table does not name (merged before 2025), with their figures:
    /// their dossiers count in the total, not in any listed unit.
    pub not_converted: Vec<IndicatorRow>,
}

/// The indicators a map or ranking can show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    #[default]
    OnTimeRate,
    LateRateInclPending,
    OnlineRate,
    OnlinePaymentRate,
    AvgDays,
}

impl Indicator {
    pub const ALL: [Indicator; 5] = [
        Indicator::OnTimeRate,
        Indicator::LateRateInclPending,
        Indicator::OnlineRate,
        Indicator::OnlinePaymentRate,
        Indicator::AvgDays,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::OnTimeRate => "on_time_rate",
            Indicator::LateRateInclPending => "late_rate_incl_pending",
            Indicator::OnlineRate => "online_rate",
            Indicator::OnlinePaymentRate => "online_payment_rate",
            Indicator::AvgDays => "avg_days",
        }
    }

    /// Whether a larger value is better (drives ranking order and colour direction).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Indicator::LateRateInclPending | Indicator::AvgDays)
    }

    pub fn is_rate(self) -> bool {
        !matches!(self, Indicator::AvgDays)
    }
}

impl FromStr for Indicator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Indicator::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| format!("unknown indicator '{s}'"))
    }
}

/// A unit as lists and breadcrumbs show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

/// The size of a trend bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Week,
    Month,
}

impl FromStr for Bucket {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "week" => Ok(Bucket::Week),
            "month" => Ok(Bucket::Month),
            other => Err(format!("unknown bucket '{other}': expected week or month")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TrendQuery {
    pub unit: String,
    pub period: Period,
    pub bucket: Bucket,
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub dossier_level: Option<Level>,
    /// Which units `unit` names (`units=`): today's or those of the period's time.
    #[serde(default)]
    pub units: UnitsView,
}

/// One bucket of a trend: its dates and the unit's figures over them, written side by side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(from = "FlatTrendPoint")]
pub struct TrendPoint {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(flatten)]
    pub figures: IndicatorRow,
}

/// A trend point as written, read field by field: serde reads a `flatten`ed field through a
/// buffered copy of the whole object, code that costs the WASM about 8 KB. The conversion names
/// every field, so the compiler keeps this list equal to `IndicatorRow`'s.
#[derive(Deserialize)]
struct FlatTrendPoint {
    #[serde(deserialize_with = "crate::iso::date")]
    from: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    to: NaiveDate,
    code: String,
    name: String,
    received: u64,
    resolved: u64,
    resolved_early: u64,
    resolved_on_time: u64,
    resolved_late: u64,
    pending: u64,
    pending_overdue: u64,
    received_online: u64,
    received_with_fee: u64,
    paid_online: u64,
    // Left out in a page when the counts give them, as in a row (`row_form`).
    #[serde(default, deserialize_with = "row_form::present")]
    on_time_rate: row_form::Rate,
    #[serde(default, deserialize_with = "row_form::present")]
    late_rate_incl_pending: row_form::Rate,
    #[serde(default, deserialize_with = "row_form::present")]
    online_rate: row_form::Rate,
    #[serde(default, deserialize_with = "row_form::present")]
    online_payment_rate: row_form::Rate,
    avg_days: Option<f64>,
    #[serde(default)]
    apportioned: u64,
}

impl From<FlatTrendPoint> for TrendPoint {
    fn from(p: FlatTrendPoint) -> Self {
        let figures = IndicatorRow {
            code: p.code,
            name: p.name,
            received: p.received,
            resolved: p.resolved,
            resolved_early: p.resolved_early,
            resolved_on_time: p.resolved_on_time,
            resolved_late: p.resolved_late,
            pending: p.pending,
            pending_overdue: p.pending_overdue,
            received_online: p.received_online,
            received_with_fee: p.received_with_fee,
            paid_online: p.paid_online,
            on_time_rate: None,
            late_rate_incl_pending: None,
            online_rate: None,
            online_payment_rate: None,
            avg_days: p.avg_days,
            apportioned: p.apportioned,
        };
        TrendPoint {
            from: p.from,
            to: p.to,
            figures: row_form::with_rates(
                figures,
                [
                    p.on_time_rate,
                    p.late_rate_incl_pending,
                    p.online_rate,
                    p.online_payment_rate,
                ],
            ),
        }
    }
}

/// The answer of `GET /api/v1/trend`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrendResponse {
    pub unit: String,
    pub name: String,
    #[serde(deserialize_with = "crate::iso::date")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "crate::iso::date")]
    pub to: NaiveDate,
    pub bucket: Bucket,
    pub points: Vec<TrendPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_page_leaves_out_the_rates_its_counts_give_and_its_reader_derives_them_to_the_same_bits() {
        let counts = Counts {
            received: 7099,
            resolved: 7107,
            resolved_early: 5404,
            resolved_on_time: 1594,
            resolved_late: 109,
            pending: 36,
            pending_overdue: 9,
            received_online: 5253,
            received_with_fee: 3880,
            paid_online: 2239,
            resolved_days_total: 37_126,
        };
        let row = IndicatorRow::from_counts("20194", "Phường Hải Vân", &counts);
        // A rate its counts do not give (as a converted unit's could be) travels as it is.
        let mut odd = row.clone();
        odd.on_time_rate = Some(0.5);
        let empty = IndicatorRow::from_counts("X", "Xã X", &Counts::default());
        let rows = vec![row, odd, empty];

        let page = crate::codec::to_text(&rows).unwrap();
        let written: serde_json::Value = serde_json::from_str(&page).unwrap();
        for name in [
            "on_time_rate",
            "late_rate_incl_pending",
            "online_rate",
            "online_payment_rate",
        ] {
            assert!(written[0].get(name).is_none(), "{name}");
            assert!(
                written[2].get(name).is_none(),
                "{name} (null, derived null)"
            );
        }
        assert_eq!(written[1]["on_time_rate"], 0.5);
        assert!(written[1].get("online_rate").is_none());
        assert_eq!(written[0]["avg_days"], rows[0].avg_days.unwrap());
        let back: Vec<IndicatorRow> = crate::codec::parse(&page).unwrap();
        assert_eq!(back, rows);
        let bits = |r: &IndicatorRow| {
            [
                r.on_time_rate,
                r.late_rate_incl_pending,
                r.online_rate,
                r.online_payment_rate,
            ]
            .map(|v| v.map(f64::to_bits))
        };
        for (read, written) in back.iter().zip(&rows) {
            assert_eq!(
                bits(read),
                bits(written),
                "every rate comes back to the bit"
            );
        }

        // Everywhere else (the API, the live stream) a row carries every rate.
        let api = serde_json::to_value(&rows).unwrap();
        for r in api.as_array().unwrap() {
            for name in [
                "on_time_rate",
                "late_rate_incl_pending",
                "online_rate",
                "online_payment_rate",
            ] {
                assert!(r.get(name).is_some(), "{name} in {r}");
            }
        }
        assert!(api[2]["on_time_rate"].is_null());
        assert_eq!(
            serde_json::from_value::<Vec<IndicatorRow>>(api).unwrap(),
            rows
        );
    }

    #[test]
    fn a_trend_point_reads_back_what_it_writes_side_by_side() {
        let c = Counts {
            received: 12,
            resolved: 9,
            resolved_early: 4,
            resolved_on_time: 3,
            resolved_late: 2,
            pending: 3,
            pending_overdue: 1,
            received_online: 5,
            received_with_fee: 6,
            paid_online: 2,
            ..Counts::default()
        };
        let point = TrendPoint {
            from: d("2021-03-01"),
            to: d("2021-03-31"),
            figures: IndicatorRow::from_counts("80", "Long An", &c),
        };
        let json = serde_json::to_value(&point).unwrap();
        assert_eq!(
            (json["from"].as_str(), json["received"].as_u64()),
            (Some("2021-03-01"), Some(12))
        );
        assert!(json.get("figures").is_none());
        let back: TrendPoint = serde_json::from_value(json).unwrap();
        assert_eq!(back, point);
        // In a page the rates its counts give are left out, and come back the same.
        let page = crate::codec::to_text(&point).unwrap();
        assert!(!page.contains("on_time_rate"), "{page}");
        assert_eq!(crate::codec::parse::<TrendPoint>(&page).unwrap(), point);
    }

    #[test]
    fn previous_period_has_the_same_length_and_ends_the_day_before() {
        let q1 = Period::new(d("2021-01-01"), d("2021-03-31")).unwrap();
        let prev = q1.previous().unwrap();
        assert_eq!(prev.to, d("2020-12-31"));
        assert_eq!(
            (prev.to - prev.from).num_days(),
            (q1.to - q1.from).num_days()
        );
    }

    #[test]
    fn a_year_earlier_keeps_the_calendar_dates() {
        let q1 = Period::new(d("2021-01-01"), d("2021-03-31")).unwrap();
        let y = q1.year_earlier().unwrap();
        assert_eq!((y.from, y.to), (d("2020-01-01"), d("2020-03-31")));
        let leap = Period::new(d("2024-02-01"), d("2024-02-29")).unwrap();
        assert_eq!(leap.year_earlier().unwrap().to, d("2023-02-28"));
    }

    #[test]
    fn a_stats_query_writes_the_query_string_the_api_reads() {
        let mut q = StatsQuery {
            period: Period::new(d("2021-01-01"), d("2021-03-31")).unwrap(),
            level: Level::District,
            parent: Some("49".into()),
            field: Some("Đất đai".into()),
            channel: Some(Channel::Online),
            dossier_level: None,
            units: Default::default(),
        };
        assert_eq!(
            q.to_query_string(),
            "?from=2021-01-01&to=2021-03-31&level=district&parent=49\
             &field=%C4%90%E1%BA%A5t%20%C4%91ai&channel=online"
        );
        q.parent = None;
        q.field = None;
        q.channel = None;
        q.dossier_level = Some(Level::Commune);
        assert_eq!(
            q.to_query_string(),
            "?from=2021-01-01&to=2021-03-31&level=district&dossier_level=commune"
        );
    }

    #[test]
    fn period_refuses_from_after_to() {
        assert!(Period::new(d("2021-02-01"), d("2021-01-01")).is_err());
        assert!(Period::new(d("2021-01-01"), d("2021-01-01")).is_ok());
    }

    #[test]
    fn a_period_lies_in_the_served_years_and_covers_at_most_three_years() {
        let e = Period::new(d("0000-01-01"), d("2021-01-01")).unwrap_err();
        assert!(e.starts_with("from: 0000-01-01 is outside"), "{e}");
        let e = Period::new(d("2021-01-01"), d("9999-12-31")).unwrap_err();
        assert!(e.starts_with("to: 9999-12-31 is outside"), "{e}");
        assert!(Period::new(d("2020-01-01"), d("2022-12-31")).is_ok());
        let e = Period::new(d("2020-01-01"), d("2023-01-03")).unwrap_err();
        assert!(e.contains("at most 1098 days"), "{e}");
    }

    #[test]
    fn a_period_read_from_outside_goes_through_the_same_checks() {
        let ok: Period =
            serde_json::from_str(r#"{"from":"2021-01-01","to":"2021-03-31"}"#).unwrap();
        assert_eq!(ok, Period::new(d("2021-01-01"), d("2021-03-31")).unwrap());
        for bad in [
            r#"{"from":"0000-01-01","to":"9999-12-31"}"#,
            r#"{"from":"2021-03-31","to":"2021-01-01"}"#,
            r#"{"from":"+262142-12-01","to":"+262142-12-31"}"#,
        ] {
            assert!(serde_json::from_str::<Period>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_periods_before_a_checked_period_are_always_defined() {
        let first = Period::new(d("2000-01-01"), d("2002-12-31")).unwrap();
        assert!(first.previous().is_some() && first.year_earlier().is_some());
    }

    #[test]
    fn levels_and_channels_round_trip_through_their_names() {
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
        }
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
        }
        for i in Indicator::ALL {
            assert_eq!(i.as_str().parse::<Indicator>().unwrap(), i);
        }
        assert!("ward".parse::<Level>().is_err());
    }
}

/// How a unit is drawn on the map (pages carry it projected: [`ProjectedUnit`]).
#[derive(Clone, Debug, PartialEq)]
pub enum MapShape {
    /// Imported boundaries: polygons' rings of (longitude, latitude).
    Outline { rings: Vec<Vec<(f32, f32)>> },
    /// A hexagon of the authored tile map ("odd-r" grid).
    Tile { col: i32, row: i32 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapUnit {
    pub code: String,
    pub name: String,
    pub shape: MapShape,
    /// Where the label goes, as (longitude, latitude); for tiles the tile's centre is used.
    pub label: Option<(f32, f32)>,
}

/// The units of one level under one parent, as the store gives them for a map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapLayer {
    /// True for imported boundaries, false for the tile map.
    pub geographic: bool,
    /// Whether imported boundaries exist for this view, so the user can switch between them
    /// and the tiles.
    pub geographic_available: bool,
    pub units: Vec<MapUnit>,
    /// Units with figures but nothing to draw: listed beside the map.
    pub not_on_map: Vec<UnitRef>,
    /// The credit line the boundaries' licence asks for, shown wherever they are drawn.
    pub credit: Option<String>,
}

/// A layer as pages carry it to the browser: each unit already projected into the map's box,
/// its outline as the SVG path data the server-rendered map holds. The browser draws it without
/// projecting anything, and the page's second copy of each path (in the data it hydrates from)
/// repeats the first byte for byte, which brotli sends as a back-reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectedLayer {
    /// True for imported boundaries, false for the tile map.
    pub geographic: bool,
    /// Whether imported boundaries exist for this view (the map offers the switch).
    pub geographic_available: bool,
    pub units: Vec<ProjectedUnit>,
    /// Units with figures but nothing to draw: listed beside the map.
    pub not_on_map: Vec<UnitRef>,
    /// The credit line the boundaries' licence asks for, shown wherever they are drawn.
    pub credit: Option<String>,
}

/// One unit of a [`ProjectedLayer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectedUnit {
    pub code: String,
    pub name: String,
    /// SVG path data in the map's box.
    pub path: String,
    /// Where the label goes in the map's box, to a tenth of a unit.
    pub label: (f32, f32),
}

/// Which drawing of the units the map uses: imported boundaries or the schematic tile map
/// (tiles keep small urban units visible beside large mountain districts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapKind {
    /// Boundaries when imported, tiles otherwise.
    #[default]
    Geographic,
    Tiles,
}

impl MapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MapKind::Geographic => "geographic",
            MapKind::Tiles => "tiles",
        }
    }
}

impl FromStr for MapKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "geographic" => Ok(MapKind::Geographic),
            "tiles" => Ok(MapKind::Tiles),
            other => Err(format!("'{other}' is not a map kind (geographic or tiles)")),
        }
    }
}

/// A unit with its level: one step of a breadcrumb.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedUnit {
    pub code: String,
    pub name: String,
    pub level: Level,
}
