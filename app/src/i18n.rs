//! The one translation table: every string the UI shows, in Vietnamese (default) and English.
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language '{other}': expected vi or en")),
        }
    }
}

/// Every UI string, named by what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    AppTitle,
    AppSubtitle,
    SwitchLanguage,
    Received,
    Resolved,
    ResolvedEarly,
    ResolvedOnTime,
    ResolvedLate,
    Pending,
    PendingOverdue,
    OnTimeRate,
    LateRateInclPending,
    OnlineRate,
    OnlinePaymentRate,
    AvgDays,
    Ranking,
    Rank,
    Unit,
    Period,
    Loading,
    LoadFailed,
    NoUnits,
    BelowThreshold,
    ThresholdNote,
    DefinitionOnTimeRate,
    DefinitionReceived,
    DefinitionResolved,
    DefinitionPendingOverdue,
    DefinitionOnlineRate,
    SortBy,
    Province,
    Districts,
    HowComputed,
    Source,
    Map,
    NoData,
    NotOnMap,
    TileMapNote,
    /// How to draw real boundaries: shown to a signed-in administrator only.
    TileMapAdminNote,
    GeographicMapNote,
    Legend,
    Country,
    Provinces,
    Communes,
    Breadcrumb,
    ZoomIn,
    ZoomOut,
    ZoomReset,
    MapGeographic,
    MapTiles,
    MapKeysHelp,
    IndicatorChoice,
    Classification,
    ClassThresholds,
    ClassQuantiles,
    ClassJenks,
    Days,
    Filters,
    Sector,
    AllSectors,
    Channel,
    AllChannels,
    ChannelOnline,
    ChannelDirect,
    ChannelPostal,
    HandlingLevel,
    AllLevels,
    LevelProvince,
    LevelDistrict,
    LevelCommune,
    PresetMonth,
    PresetQuarter,
    PresetYear,
    PresetYearToDate,
    DateFrom,
    DateTo,
    Apply,
    Target,
    ResolvedLower,
    /// "on time" / "late" inside a sentence: casing is the language's, not `to_lowercase`'s.
    OnTimeLower,
    LateLower,
    InTime,
    ProcessingDays,
    Dossiers,
    Charts,
    ChartTrend,
    ChartTimeliness,
    ChartDays,
    ChartSectors,
    ShowTable,
    ShowChart,
    ExportSvg,
    ExportPng,
    ExportCsv,
    Print,
    MonthlyReport,
    ByWeek,
    ByMonth,
    FocusedOn,
    ClearFocus,
    FocusHint,
    Change,
    VsPrevious,
    VsYearEarlier,
    PercentPoints,
    Last12Months,
    DataAsOf,
    NoDataYet,
    LiveOn,
    LiveUpdatedAt,
    LiveConnecting,
    LiveReconnecting,
    Embed,
    EmbedHelp,
    EmbedTitle,
    OpenDashboard,
    ThemeToggle,
    Procedures,
    Procedure,
    OnlineLevel,
    OnlineFull,
    OnlinePartial,
    OnlineNone,
    NotCatalogued,
    ShareOnline,
    DefinitionShareOnline,
    ProceduresHint,
    BackToMap,
    Views,
    SignIn,
    SignOut,
    Username,
    Password,
    SignInFailed,
    SignInRateLimited,
    SignInIncomplete,
    SignInHelp,
    LateDossiers,
    LateKindAll,
    DossierId,
    Agency,
    ReceivedDate,
    DueDate,
    ResolvedDate,
    DaysOverdue,
    Stage,
    StageProcessing,
    StageDueChanged,
    StageResolved,
    StageWithdrawn,
    PreviousPage,
    NextPage,
    PageNumber,
    Timeline,
    EventAt,
    EventKind,
    NeedSignIn,
    NotAllowed,
    SignedInAs,
    Kind,
    Close,
    NoLateDossiers,
    UnitsChoice,
    UnitsToday,
    UnitsHistorical,
    ConversionNote,
    NotConverted,
    Apportioned,
    AllCommunes,
    CompareYearEarlier,
    CompareOff,
    ChangeAgainst,
    ChangeChart,
    DueSoon,
    WorkingDaysLeft,
    WithinWorkingDays,
    NoDueDossiers,
    DueThrough,
    Alerts,
    AlertRules,
    NewAlertRule,
    RuleName,
    WatchedIndicator,
    EachCommune,
    Condition,
    CondBelow,
    CondAbove,
    CondDrop,
    CondRise,
    ThresholdValue,
    MonthToDate,
    QuarterToDate,
    Rolling30Days,
    WebhookUrl,
    EmailAddress,
    SaveRule,
    DeleteRule,
    MarkAllRead,
    NoAlerts,
    NoRules,
    ShowOnMap,
    DueSoonCount,
    FiredAt,
    Unread,
    // The monthly PDF report's strings: drawn on the server only, so kept out of the WASM.
    #[cfg(feature = "ssr")]
    ReportTitle,
    #[cfg(feature = "ssr")]
    ReportMonthToDate,
    #[cfg(feature = "ssr")]
    ReportGenerated,
    #[cfg(feature = "ssr")]
    ReportPublic,
    #[cfg(feature = "ssr")]
    ReportWithAgencies,
    #[cfg(feature = "ssr")]
    ReportHeadline,
    #[cfg(feature = "ssr")]
    ReportPreviousMonth,
    #[cfg(feature = "ssr")]
    ReportYearEarlier,
    #[cfg(feature = "ssr")]
    ReportMap,
    #[cfg(feature = "ssr")]
    ReportRanking,
    #[cfg(feature = "ssr")]
    ReportThreshold,
    #[cfg(feature = "ssr")]
    ReportTrend,
    #[cfg(feature = "ssr")]
    ReportLateProcedures,
    #[cfg(feature = "ssr")]
    ReportLateSectors,
    #[cfg(feature = "ssr")]
    ReportFellBelow,
    #[cfg(feature = "ssr")]
    ReportRoseAbove,
    #[cfg(feature = "ssr")]
    ReportNone,
    #[cfg(feature = "ssr")]
    ReportPage,
    #[cfg(feature = "ssr")]
    ReportConverted,
    #[cfg(feature = "ssr")]
    ReportLateByAgency,
    #[cfg(feature = "ssr")]
    ReportNoAgency,
    #[cfg(feature = "ssr")]
    ReportNoChildren,
    #[cfg(feature = "ssr")]
    ReportRatePoints,
}

/// The name of an indicator.
pub fn indicator_key(indicator: crate::model::Indicator) -> Key {
    use crate::model::Indicator;
    match indicator {
        Indicator::OnTimeRate => Key::OnTimeRate,
        Indicator::LateRateInclPending => Key::LateRateInclPending,
        Indicator::OnlineRate => Key::OnlineRate,
        Indicator::OnlinePaymentRate => Key::OnlinePaymentRate,
        Indicator::AvgDays => Key::AvgDays,
    }
}

/// The text of `key` in `lang`.
/// `key` in the current language, as a reactive view text or attribute. One closure type for
/// every call site: each distinct closure in a view brings its own copy of Leptos's rendering
/// and hydration code into the WASM, so a hundred `move || tr(lang.get(), …)` cost far more.
pub fn text(
    lang: leptos::prelude::Signal<Lang>,
    key: Key,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    use leptos::prelude::Get;
    move || tr(lang.get(), key)
}

pub fn tr(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match (key, lang) {
        (AppTitle, Lang::Vi) => "Bản đồ thực thi thể chế",
        (AppTitle, Lang::En) => "Institutional Enforcement Map",
        (AppSubtitle, Lang::Vi) => "Tỷ lệ hồ sơ thủ tục hành chính giải quyết đúng hạn",
        (AppSubtitle, Lang::En) => "Share of administrative dossiers resolved on time",
        (SwitchLanguage, Lang::Vi) => "English",
        (SwitchLanguage, Lang::En) => "Tiếng Việt",
        (Received, Lang::Vi) => "Tiếp nhận",
        (Received, Lang::En) => "Received",
        (Resolved, Lang::Vi) => "Đã giải quyết",
        (Resolved, Lang::En) => "Resolved",
        (ResolvedEarly, Lang::Vi) => "Trước hạn",
        (ResolvedEarly, Lang::En) => "Early",
        (ResolvedOnTime, Lang::Vi) => "Đúng hạn",
        (ResolvedOnTime, Lang::En) => "On time",
        (ResolvedLate, Lang::Vi) => "Trễ hạn",
        (ResolvedLate, Lang::En) => "Late",
        (Pending, Lang::Vi) => "Đang giải quyết",
        (Pending, Lang::En) => "Pending",
        (PendingOverdue, Lang::Vi) => "Đang giải quyết quá hạn",
        (PendingOverdue, Lang::En) => "Pending past due",
        (OnTimeRate, Lang::Vi) => "Tỷ lệ đúng hạn",
        (OnTimeRate, Lang::En) => "On-time rate",
        (LateRateInclPending, Lang::Vi) => "Tỷ lệ trễ hạn (kể cả đang xử lý)",
        (LateRateInclPending, Lang::En) => "Late rate incl. pending",
        (OnlineRate, Lang::Vi) => "Tỷ lệ nộp trực tuyến",
        (OnlineRate, Lang::En) => "Online rate",
        (OnlinePaymentRate, Lang::Vi) => "Tỷ lệ thanh toán trực tuyến",
        (OnlinePaymentRate, Lang::En) => "Online payment rate",
        (AvgDays, Lang::Vi) => "Số ngày xử lý bình quân",
        (AvgDays, Lang::En) => "Average processing days",
        (Ranking, Lang::Vi) => "Xếp hạng",
        (Ranking, Lang::En) => "Ranking",
        (Rank, Lang::Vi) => "Hạng",
        (Rank, Lang::En) => "Rank",
        (Unit, Lang::Vi) => "Đơn vị",
        (Unit, Lang::En) => "Unit",
        (Period, Lang::Vi) => "Kỳ",
        (Period, Lang::En) => "Period",
        (Loading, Lang::Vi) => "Đang tải…",
        (Loading, Lang::En) => "Loading…",
        (LoadFailed, Lang::Vi) => "Không tải được số liệu",
        (LoadFailed, Lang::En) => "Could not load the figures",
        (NoUnits, Lang::Vi) => "Không có đơn vị nào có số liệu trong kỳ này",
        (NoUnits, Lang::En) => "No unit has figures for this period",
        (BelowThreshold, Lang::Vi) => "Dưới ngưỡng 95%",
        (BelowThreshold, Lang::En) => "Below the 95% threshold",
        (ThresholdNote, Lang::Vi) => {
            "Hàng được đánh dấu: tỷ lệ đúng hạn dưới ngưỡng hành động 95%."
        }
        (ThresholdNote, Lang::En) => "Marked rows: on-time rate below the 95% action threshold.",
        (DefinitionOnTimeRate, Lang::Vi) => {
            "(Trước hạn + đúng hạn) / đã giải quyết trong kỳ (Quyết định 766)."
        }
        (DefinitionOnTimeRate, Lang::En) => {
            "(Early + on time) / resolved in the period (Decision 766)."
        }
        (DefinitionReceived, Lang::Vi) => {
            "Hồ sơ tiếp nhận trong kỳ (ngày địa phương UTC+7, tính cả hai đầu)."
        }
        (DefinitionReceived, Lang::En) => {
            "Dossiers received in the period (local dates UTC+7, both ends included)."
        }
        (DefinitionResolved, Lang::Vi) => {
            "Hồ sơ giải quyết trong kỳ, kể cả hồ sơ kỳ trước chuyển sang."
        }
        (DefinitionResolved, Lang::En) => {
            "Dossiers resolved in the period, including those carried over."
        }
        (DefinitionPendingOverdue, Lang::Vi) => {
            "Chưa giải quyết, chưa rút vào cuối kỳ và đã đến hạn."
        }
        (DefinitionPendingOverdue, Lang::En) => {
            "Neither resolved nor withdrawn at the end of the period, and due by then."
        }
        (DefinitionOnlineRate, Lang::Vi) => "Hồ sơ nộp trực tuyến / hồ sơ tiếp nhận.",
        (DefinitionOnlineRate, Lang::En) => "Dossiers received online / dossiers received.",
        (SortBy, Lang::Vi) => "Sắp xếp theo",
        (SortBy, Lang::En) => "Sort by",
        (Province, Lang::Vi) => "Tỉnh",
        (Province, Lang::En) => "Province",
        (Districts, Lang::Vi) => "Huyện, thị xã, thành phố",
        (Districts, Lang::En) => "Districts",
        (HowComputed, Lang::Vi) => "Cách tính",
        (HowComputed, Lang::En) => "How is this computed",
        (Source, Lang::Vi) => "Nguồn: hệ thống một cửa điện tử",
        (Source, Lang::En) => "Source: one-stop information systems",
        (Map, Lang::Vi) => "Bản đồ tỷ lệ giải quyết đúng hạn",
        (Map, Lang::En) => "Map of on-time rates",
        (NoData, Lang::Vi) => "Chưa có số liệu",
        (NoData, Lang::En) => "No data",
        (NotOnMap, Lang::Vi) => "Không có trên bản đồ",
        (NotOnMap, Lang::En) => "Not on the map",
        (TileMapNote, Lang::Vi) => {
            "Bản đồ ô (sơ đồ): mỗi ô lục giác là một đơn vị, xếp gần đúng vị trí địa lý."
        }
        (TileMapNote, Lang::En) => {
            "Schematic tile map: one hexagon per unit, placed roughly where it lies."
        }
        (TileMapAdminNote, Lang::Vi) => {
            "Quản trị viên: để vẽ ranh giới thật, nhập tệp ranh giới: \
             server boundaries import TỆP --level district --parent MÃ"
        }
        (TileMapAdminNote, Lang::En) => {
            "Administrator: to draw real boundaries, import a boundary file: \
             server boundaries import FILE --level district --parent CODE"
        }
        (GeographicMapNote, Lang::Vi) => "Ranh giới hành chính đã nhập.",
        (GeographicMapNote, Lang::En) => "Imported administrative boundaries.",
        (Legend, Lang::Vi) => "Chú giải",
        (Legend, Lang::En) => "Legend",
        (Country, Lang::Vi) => "Việt Nam",
        (Country, Lang::En) => "Viet Nam",
        (Provinces, Lang::Vi) => "Tỉnh, thành phố",
        (Provinces, Lang::En) => "Provinces",
        (Communes, Lang::Vi) => "Xã, phường, thị trấn",
        (Communes, Lang::En) => "Communes",
        (Breadcrumb, Lang::Vi) => "Cấp đang xem",
        (Breadcrumb, Lang::En) => "You are here",
        (ZoomIn, Lang::Vi) => "Phóng to",
        (ZoomIn, Lang::En) => "Zoom in",
        (ZoomOut, Lang::Vi) => "Thu nhỏ",
        (ZoomOut, Lang::En) => "Zoom out",
        (ZoomReset, Lang::Vi) => "Xem toàn bộ",
        (ZoomReset, Lang::En) => "Show all",
        (MapGeographic, Lang::Vi) => "Địa lý",
        (MapGeographic, Lang::En) => "Geographic",
        (MapTiles, Lang::Vi) => "Ô",
        (MapTiles, Lang::En) => "Tiles",
        (IndicatorChoice, Lang::Vi) => "Chỉ tiêu",
        (IndicatorChoice, Lang::En) => "Indicator",
        (Classification, Lang::Vi) => "Phân lớp",
        (Classification, Lang::En) => "Classes",
        (ClassThresholds, Lang::Vi) => "Ngưỡng cố định",
        (ClassThresholds, Lang::En) => "Fixed thresholds",
        (ClassQuantiles, Lang::Vi) => "Phân vị (số đơn vị đều nhau)",
        (ClassQuantiles, Lang::En) => "Quantiles (equal counts)",
        (ClassJenks, Lang::Vi) => "Ngắt tự nhiên (Jenks)",
        (ClassJenks, Lang::En) => "Natural breaks (Jenks)",
        (Filters, Lang::Vi) => "Bộ lọc",
        (Filters, Lang::En) => "Filters",
        (Sector, Lang::Vi) => "Lĩnh vực",
        (Sector, Lang::En) => "Sector",
        (AllSectors, Lang::Vi) => "Tất cả lĩnh vực",
        (AllSectors, Lang::En) => "All sectors",
        (Channel, Lang::Vi) => "Hình thức nộp",
        (Channel, Lang::En) => "Channel",
        (AllChannels, Lang::Vi) => "Tất cả hình thức",
        (AllChannels, Lang::En) => "All channels",
        (ChannelOnline, Lang::Vi) => "Trực tuyến",
        (ChannelOnline, Lang::En) => "Online",
        (ChannelDirect, Lang::Vi) => "Trực tiếp",
        (ChannelDirect, Lang::En) => "In person",
        (ChannelPostal, Lang::Vi) => "Bưu chính",
        (ChannelPostal, Lang::En) => "Postal",
        (HandlingLevel, Lang::Vi) => "Cấp giải quyết",
        (HandlingLevel, Lang::En) => "Handled at",
        (AllLevels, Lang::Vi) => "Tất cả các cấp",
        (AllLevels, Lang::En) => "All levels",
        (LevelProvince, Lang::Vi) => "Cấp tỉnh",
        (LevelProvince, Lang::En) => "Province level",
        (LevelDistrict, Lang::Vi) => "Cấp huyện",
        (LevelDistrict, Lang::En) => "District level",
        (LevelCommune, Lang::Vi) => "Cấp xã",
        (LevelCommune, Lang::En) => "Commune level",
        (PresetMonth, Lang::Vi) => "Tháng",
        (PresetMonth, Lang::En) => "Month",
        (PresetQuarter, Lang::Vi) => "Quý",
        (PresetQuarter, Lang::En) => "Quarter",
        (PresetYear, Lang::Vi) => "Năm",
        (PresetYear, Lang::En) => "Year",
        (PresetYearToDate, Lang::Vi) => "Từ đầu năm",
        (PresetYearToDate, Lang::En) => "Year to date",
        (DateFrom, Lang::Vi) => "Từ ngày",
        (DateFrom, Lang::En) => "From",
        (DateTo, Lang::Vi) => "Đến ngày",
        (DateTo, Lang::En) => "To",
        (Apply, Lang::Vi) => "Áp dụng",
        (Apply, Lang::En) => "Apply",
        (Target, Lang::Vi) => "Mục tiêu",
        (Target, Lang::En) => "Target",
        (ResolvedLower, Lang::Vi) => "đã giải quyết",
        (ResolvedLower, Lang::En) => "resolved",
        (OnTimeLower, Lang::Vi) => "đúng hạn",
        (OnTimeLower, Lang::En) => "on time",
        (LateLower, Lang::Vi) => "trễ hạn",
        (LateLower, Lang::En) => "late",
        (InTime, Lang::Vi) => "Đúng và trước hạn",
        (InTime, Lang::En) => "In time",
        (ProcessingDays, Lang::Vi) => "Số ngày xử lý",
        (ProcessingDays, Lang::En) => "Processing days",
        (Dossiers, Lang::Vi) => "Hồ sơ",
        (Dossiers, Lang::En) => "Dossiers",
        (Charts, Lang::Vi) => "Biểu đồ",
        (Charts, Lang::En) => "Charts",
        (ChartTrend, Lang::Vi) => "Tỷ lệ đúng hạn theo thời gian",
        (ChartTrend, Lang::En) => "On-time rate over time",
        (ChartTimeliness, Lang::Vi) => "Trước hạn, đúng hạn, trễ hạn theo đơn vị",
        (ChartTimeliness, Lang::En) => "Early, on time and late by unit",
        (ChartDays, Lang::Vi) => "Phân bố số ngày xử lý",
        (ChartDays, Lang::En) => "Distribution of processing days",
        (ChartSectors, Lang::Vi) => "Đúng hạn và trễ hạn theo lĩnh vực",
        (ChartSectors, Lang::En) => "In time and late by sector",
        (ShowTable, Lang::Vi) => "Xem dạng bảng",
        (ShowTable, Lang::En) => "Show as table",
        (ShowChart, Lang::Vi) => "Xem biểu đồ",
        (ShowChart, Lang::En) => "Show as chart",
        (ExportSvg, Lang::Vi) => "Tải SVG",
        (ExportSvg, Lang::En) => "Download SVG",
        (ExportPng, Lang::Vi) => "Tải PNG",
        (ExportPng, Lang::En) => "Download PNG",
        (ExportCsv, Lang::Vi) => "Tải CSV",
        (ExportCsv, Lang::En) => "Download CSV",
        (Print, Lang::Vi) => "In trang",
        (Print, Lang::En) => "Print",
        (MonthlyReport, Lang::Vi) => "Báo cáo tháng (PDF)",
        (MonthlyReport, Lang::En) => "Monthly report (PDF)",
        (ByWeek, Lang::Vi) => "Theo tuần",
        (ByWeek, Lang::En) => "By week",
        (ByMonth, Lang::Vi) => "Theo tháng",
        (ByMonth, Lang::En) => "By month",
        (FocusedOn, Lang::Vi) => "Biểu đồ đang xem riêng",
        (FocusedOn, Lang::En) => "Charts focused on",
        (ClearFocus, Lang::Vi) => "Xem toàn bộ",
        (ClearFocus, Lang::En) => "Show all",
        (FocusHint, Lang::Vi) => "Chọn một đơn vị trên bản đồ hoặc trong bảng xếp hạng để xem riêng đơn vị đó; chọn một lĩnh vực trong biểu đồ để lọc bản đồ theo lĩnh vực.",
        (FocusHint, Lang::En) => "Select a unit on the map or in the ranking to focus the charts on it; select a sector in a chart to filter the map by it.",
        (Change, Lang::Vi) => "Thay đổi",
        (Change, Lang::En) => "Change",
        (VsPrevious, Lang::Vi) => "so với kỳ trước",
        (VsPrevious, Lang::En) => "vs previous period",
        (VsYearEarlier, Lang::Vi) => "so với cùng kỳ năm trước",
        (VsYearEarlier, Lang::En) => "vs same period a year earlier",
        (PercentPoints, Lang::Vi) => "điểm %",
        (PercentPoints, Lang::En) => "pts",
        (Last12Months, Lang::Vi) => "12 tháng",
        (Last12Months, Lang::En) => "12 months",
        (DataAsOf, Lang::Vi) => "Số liệu cập nhật đến",
        (DataAsOf, Lang::En) => "Data as of",
        (LiveOn, Lang::Vi) => "Trực tiếp",
        (LiveOn, Lang::En) => "Live",
        (LiveUpdatedAt, Lang::Vi) => "cập nhật lúc",
        (LiveUpdatedAt, Lang::En) => "updated at",
        (LiveConnecting, Lang::Vi) => "Đang kết nối…",
        (LiveConnecting, Lang::En) => "Connecting…",
        (LiveReconnecting, Lang::Vi) => "Mất kết nối, đang kết nối lại…",
        (LiveReconnecting, Lang::En) => "Connection lost, reconnecting…",
        (NoDataYet, Lang::Vi) => "chưa có",
        (NoDataYet, Lang::En) => "not yet",
        (Embed, Lang::Vi) => "Nhúng bản đồ vào trang khác",
        (Embed, Lang::En) => "Embed this map",
        (EmbedHelp, Lang::Vi) => "Dán đoạn mã sau vào trang của bạn; bản đồ hiển thị đúng chế độ xem hiện tại.",
        (EmbedHelp, Lang::En) => "Paste this code into your page; the map shows the current view.",
        (EmbedTitle, Lang::Vi) => "Bản đồ tỷ lệ giải quyết hồ sơ đúng hạn",
        (EmbedTitle, Lang::En) => "Map of dossiers resolved on time",
        (OpenDashboard, Lang::Vi) => "Mở bản đồ đầy đủ",
        (OpenDashboard, Lang::En) => "Open the full dashboard",
        (ThemeToggle, Lang::Vi) => "Giao diện sáng / tối",
        (ThemeToggle, Lang::En) => "Light / dark theme",
        (Procedures, Lang::Vi) => "Thủ tục hành chính",
        (Procedures, Lang::En) => "Procedures",
        (Procedure, Lang::Vi) => "Thủ tục",
        (Procedure, Lang::En) => "Procedure",
        (OnlineLevel, Lang::Vi) => "Mức cung cấp trực tuyến",
        (OnlineLevel, Lang::En) => "Online level",
        (OnlineFull, Lang::Vi) => "Toàn trình",
        (OnlineFull, Lang::En) => "Fully online",
        (OnlinePartial, Lang::Vi) => "Một phần",
        (OnlinePartial, Lang::En) => "Partly online",
        (OnlineNone, Lang::Vi) => "Không trực tuyến",
        (OnlineNone, Lang::En) => "Not online",
        (NotCatalogued, Lang::Vi) => "Ngoài danh mục",
        (NotCatalogued, Lang::En) => "Not in the catalogue",
        (ShareOnline, Lang::Vi) => "Thủ tục cung cấp trực tuyến",
        (ShareOnline, Lang::En) => "Procedures offered online",
        (DefinitionShareOnline, Lang::Vi) => "Số thủ tục trong danh mục cung cấp trực tuyến một phần hoặc toàn trình / tổng số thủ tục trong danh mục (chỉ số của Bộ chỉ số phục vụ người dân, doanh nghiệp).",
        (DefinitionShareOnline, Lang::En) => "Catalogued procedures offered partly or fully online / all catalogued procedures (the indicator of the national service index).",
        (ProceduresHint, Lang::Vi) => "Các thủ tục có tỷ lệ đúng hạn thấp nhất đứng đầu khi sắp xếp theo tỷ lệ đúng hạn.",
        (ProceduresHint, Lang::En) => "Sort by on-time rate to see which procedures drag the rate down.",
        (BackToMap, Lang::Vi) => "Bản đồ và xếp hạng",
        (BackToMap, Lang::En) => "Map and ranking",
        (Views, Lang::Vi) => "Trang",
        (Views, Lang::En) => "Views",
        (Days, Lang::Vi) => "ngày",
        (Days, Lang::En) => "days",
        (MapKeysHelp, Lang::Vi) => {
            "Phím mũi tên: chuyển đơn vị; Enter: xem cấp dưới; Esc: lên cấp trên; \
             lăn chuột hoặc kéo: phóng to, di chuyển."
        }
        (MapKeysHelp, Lang::En) => {
            "Arrow keys: move between units; Enter: open the level below; Escape: go up; \
             wheel or drag: zoom and pan."
        }
        (SignIn, Lang::Vi) => "Đăng nhập",
        (SignIn, Lang::En) => "Sign in",
        (SignOut, Lang::Vi) => "Đăng xuất",
        (SignOut, Lang::En) => "Sign out",
        (Username, Lang::Vi) => "Tên đăng nhập",
        (Username, Lang::En) => "Username",
        (Password, Lang::Vi) => "Mật khẩu",
        (Password, Lang::En) => "Password",
        (SignInFailed, Lang::Vi) => "Sai tên đăng nhập hoặc mật khẩu",
        (SignInFailed, Lang::En) => "Unknown username or wrong password",
        (SignInRateLimited, Lang::Vi) => "Thử quá nhiều lần; vui lòng đợi một lát rồi thử lại",
        (SignInRateLimited, Lang::En) => "Too many attempts; wait a moment and try again",
        (SignInIncomplete, Lang::Vi) => "Hãy nhập cả tên đăng nhập và mật khẩu",
        (SignInIncomplete, Lang::En) => "Enter both the username and the password",
        (SignInHelp, Lang::Vi) => "Dành cho lãnh đạo tỉnh và chủ tịch UBND cấp huyện: xem hồ sơ trễ hạn của đơn vị mình. Số liệu công khai không cần đăng nhập.",
        (SignInHelp, Lang::En) => "For provincial leaders and district chairs: see the late dossiers of your units. Public figures need no sign-in.",
        (LateDossiers, Lang::Vi) => "Hồ sơ trễ hạn",
        (LateDossiers, Lang::En) => "Late dossiers",
        (LateKindAll, Lang::Vi) => "Trễ hạn và quá hạn",
        (LateKindAll, Lang::En) => "Late and past due",
        (DossierId, Lang::Vi) => "Mã hồ sơ",
        (DossierId, Lang::En) => "Dossier id",
        (Agency, Lang::Vi) => "Cơ quan xử lý",
        (Agency, Lang::En) => "Agency",
        (ReceivedDate, Lang::Vi) => "Ngày tiếp nhận",
        (ReceivedDate, Lang::En) => "Received",
        (DueDate, Lang::Vi) => "Hạn trả kết quả",
        (DueDate, Lang::En) => "Due",
        (ResolvedDate, Lang::Vi) => "Ngày trả kết quả",
        (ResolvedDate, Lang::En) => "Resolved",
        (DaysOverdue, Lang::Vi) => "Số ngày quá hạn",
        (DaysOverdue, Lang::En) => "Days overdue",
        (Stage, Lang::Vi) => "Đang ở bước",
        (Stage, Lang::En) => "Stage",
        (StageProcessing, Lang::Vi) => "Đang xử lý",
        (StageProcessing, Lang::En) => "Processing",
        (StageDueChanged, Lang::Vi) => "Đã điều chỉnh hạn",
        (StageDueChanged, Lang::En) => "Due date changed",
        (StageResolved, Lang::Vi) => "Đã trả kết quả",
        (StageResolved, Lang::En) => "Resolved",
        (StageWithdrawn, Lang::Vi) => "Đã rút hồ sơ",
        (StageWithdrawn, Lang::En) => "Withdrawn",
        (PreviousPage, Lang::Vi) => "Trang trước",
        (PreviousPage, Lang::En) => "Previous page",
        (NextPage, Lang::Vi) => "Trang sau",
        (NextPage, Lang::En) => "Next page",
        (PageNumber, Lang::Vi) => "Trang",
        (PageNumber, Lang::En) => "Page",
        (Timeline, Lang::Vi) => "Diễn biến hồ sơ",
        (Timeline, Lang::En) => "Dossier timeline",
        (EventAt, Lang::Vi) => "Thời điểm",
        (EventAt, Lang::En) => "When",
        (EventKind, Lang::Vi) => "Sự kiện",
        (EventKind, Lang::En) => "Event",
        (NeedSignIn, Lang::Vi) => "Cần đăng nhập để xem hồ sơ của đơn vị.",
        (NeedSignIn, Lang::En) => "Sign in to see the unit's dossiers.",
        (NotAllowed, Lang::Vi) => "Tài khoản này không được xem hồ sơ của đơn vị này.",
        (NotAllowed, Lang::En) => "This account may not see this unit's dossiers.",
        (SignedInAs, Lang::Vi) => "Đã đăng nhập",
        (SignedInAs, Lang::En) => "Signed in",
        (Kind, Lang::Vi) => "Loại",
        (Kind, Lang::En) => "Kind",
        (Close, Lang::Vi) => "Đóng",
        (Close, Lang::En) => "Close",
        (NoLateDossiers, Lang::Vi) => "Không có hồ sơ trễ hạn trong kỳ này",
        (NoLateDossiers, Lang::En) => "No late dossiers in this period",
        (DueSoon, Lang::Vi) => "Sắp đến hạn",
        (DueSoon, Lang::En) => "Due soon",
        (WorkingDaysLeft, Lang::Vi) => "Ngày làm việc còn lại",
        (WorkingDaysLeft, Lang::En) => "Working days left",
        (WithinWorkingDays, Lang::Vi) => "Trong vòng (ngày làm việc)",
        (WithinWorkingDays, Lang::En) => "Within (working days)",
        (NoDueDossiers, Lang::Vi) => "Không có hồ sơ đang giải quyết nào đến hạn trong khoảng này",
        (NoDueDossiers, Lang::En) => "No open dossier falls due in this window",
        (DueThrough, Lang::Vi) => "hạn từ hôm nay đến hết ngày",
        (DueThrough, Lang::En) => "due from today through",
        (Alerts, Lang::Vi) => "Cảnh báo",
        (Alerts, Lang::En) => "Alerts",
        (AlertRules, Lang::Vi) => "Quy tắc cảnh báo",
        (AlertRules, Lang::En) => "Alert rules",
        (NewAlertRule, Lang::Vi) => "Thêm quy tắc",
        (NewAlertRule, Lang::En) => "New rule",
        (RuleName, Lang::Vi) => "Tên quy tắc",
        (RuleName, Lang::En) => "Rule name",
        (WatchedIndicator, Lang::Vi) => "Chỉ tiêu",
        (WatchedIndicator, Lang::En) => "Indicator",
        (EachCommune, Lang::Vi) => "Từng xã, phường trực thuộc",
        (EachCommune, Lang::En) => "Each commune under it",
        (Condition, Lang::Vi) => "Điều kiện",
        (Condition, Lang::En) => "Condition",
        (CondBelow, Lang::Vi) => "Thấp hơn",
        (CondBelow, Lang::En) => "Below",
        (CondAbove, Lang::Vi) => "Cao hơn",
        (CondAbove, Lang::En) => "Above",
        (CondDrop, Lang::Vi) => "Giảm ít nhất",
        (CondDrop, Lang::En) => "Falls by at least",
        (CondRise, Lang::Vi) => "Tăng ít nhất",
        (CondRise, Lang::En) => "Rises by at least",
        (ThresholdValue, Lang::Vi) => "Ngưỡng (% với tỷ lệ, điểm % với mức thay đổi)",
        (ThresholdValue, Lang::En) => "Threshold (% for rates, points for a change)",
        (MonthToDate, Lang::Vi) => "Từ đầu tháng",
        (MonthToDate, Lang::En) => "Month to date",
        (QuarterToDate, Lang::Vi) => "Từ đầu quý",
        (QuarterToDate, Lang::En) => "Quarter to date",
        (Rolling30Days, Lang::Vi) => "30 ngày gần nhất",
        (Rolling30Days, Lang::En) => "Last 30 days",
        (WebhookUrl, Lang::Vi) => "Webhook (tuỳ chọn, https://…)",
        (WebhookUrl, Lang::En) => "Webhook (optional, https://…)",
        (EmailAddress, Lang::Vi) => "Thư điện tử (tuỳ chọn)",
        (EmailAddress, Lang::En) => "E-mail (optional)",
        (SaveRule, Lang::Vi) => "Lưu quy tắc",
        (SaveRule, Lang::En) => "Save rule",
        (DeleteRule, Lang::Vi) => "Xoá",
        (DeleteRule, Lang::En) => "Delete",
        (MarkAllRead, Lang::Vi) => "Đánh dấu tất cả đã đọc",
        (MarkAllRead, Lang::En) => "Mark all read",
        (NoAlerts, Lang::Vi) => "Chưa có cảnh báo nào",
        (NoAlerts, Lang::En) => "No alerts yet",
        (NoRules, Lang::Vi) => "Chưa có quy tắc nào",
        (NoRules, Lang::En) => "No rules yet",
        (ShowOnMap, Lang::Vi) => "Xem trên bản đồ",
        (ShowOnMap, Lang::En) => "Show on the map",
        (DueSoonCount, Lang::Vi) => "Hồ sơ sắp đến hạn (3 ngày làm việc)",
        (DueSoonCount, Lang::En) => "Dossiers due within 3 working days",
        (FiredAt, Lang::Vi) => "Thời điểm",
        (FiredAt, Lang::En) => "When",
        (Unread, Lang::Vi) => "chưa đọc",
        (Unread, Lang::En) => "unread",
        #[cfg(feature = "ssr")]
        (ReportTitle, Lang::Vi) => "Báo cáo tháng",
        #[cfg(feature = "ssr")]
        (ReportTitle, Lang::En) => "Monthly report",
        #[cfg(feature = "ssr")]
        (ReportMonthToDate, Lang::Vi) => "tháng đến ngày",
        #[cfg(feature = "ssr")]
        (ReportMonthToDate, Lang::En) => "month to date, through",
        #[cfg(feature = "ssr")]
        (ReportGenerated, Lang::Vi) => "Lập lúc",
        #[cfg(feature = "ssr")]
        (ReportGenerated, Lang::En) => "Generated",
        #[cfg(feature = "ssr")]
        (ReportPublic, Lang::Vi) => "Số liệu công khai",
        #[cfg(feature = "ssr")]
        (ReportPublic, Lang::En) => "Public figures",
        #[cfg(feature = "ssr")]
        (ReportWithAgencies, Lang::Vi) => "Có số hồ sơ trễ hạn theo cơ quan: chỉ dành cho người được phép xem",
        #[cfg(feature = "ssr")]
        (ReportWithAgencies, Lang::En) => "Includes late dossiers by agency: for authorised readers only",
        #[cfg(feature = "ssr")]
        (ReportHeadline, Lang::Vi) => "Số liệu chính",
        #[cfg(feature = "ssr")]
        (ReportHeadline, Lang::En) => "Headline figures",
        #[cfg(feature = "ssr")]
        (ReportPreviousMonth, Lang::Vi) => "Tháng trước",
        #[cfg(feature = "ssr")]
        (ReportPreviousMonth, Lang::En) => "Previous month",
        #[cfg(feature = "ssr")]
        (ReportYearEarlier, Lang::Vi) => "Cùng kỳ năm trước",
        #[cfg(feature = "ssr")]
        (ReportYearEarlier, Lang::En) => "A year earlier",
        #[cfg(feature = "ssr")]
        (ReportMap, Lang::Vi) => "Bản đồ tỷ lệ đúng hạn",
        #[cfg(feature = "ssr")]
        (ReportMap, Lang::En) => "Map of on-time rates",
        #[cfg(feature = "ssr")]
        (ReportRanking, Lang::Vi) => "Xếp hạng theo tỷ lệ đúng hạn",
        #[cfg(feature = "ssr")]
        (ReportRanking, Lang::En) => "Ranking by on-time rate",
        #[cfg(feature = "ssr")]
        (ReportThreshold, Lang::Vi) => "Ngưỡng 95%",
        #[cfg(feature = "ssr")]
        (ReportThreshold, Lang::En) => "95% threshold",
        #[cfg(feature = "ssr")]
        (ReportTrend, Lang::Vi) => "Tỷ lệ đúng hạn 12 tháng",
        #[cfg(feature = "ssr")]
        (ReportTrend, Lang::En) => "On-time rate over 12 months",
        #[cfg(feature = "ssr")]
        (ReportLateProcedures, Lang::Vi) => "Thủ tục có nhiều hồ sơ trễ hạn nhất",
        #[cfg(feature = "ssr")]
        (ReportLateProcedures, Lang::En) => "Procedures with the most late dossiers",
        #[cfg(feature = "ssr")]
        (ReportLateSectors, Lang::Vi) => "Lĩnh vực có nhiều hồ sơ trễ hạn nhất",
        #[cfg(feature = "ssr")]
        (ReportLateSectors, Lang::En) => "Sectors with the most late dossiers",
        #[cfg(feature = "ssr")]
        (ReportFellBelow, Lang::Vi) => "Xuống dưới ngưỡng 95% so với tháng trước",
        #[cfg(feature = "ssr")]
        (ReportFellBelow, Lang::En) => "Fell below 95% since the previous month",
        #[cfg(feature = "ssr")]
        (ReportRoseAbove, Lang::Vi) => "Đạt lại ngưỡng 95% so với tháng trước",
        #[cfg(feature = "ssr")]
        (ReportRoseAbove, Lang::En) => "Back at 95% or above since the previous month",
        #[cfg(feature = "ssr")]
        (ReportNone, Lang::Vi) => "Không có",
        #[cfg(feature = "ssr")]
        (ReportNone, Lang::En) => "None",
        #[cfg(feature = "ssr")]
        (ReportPage, Lang::Vi) => "Trang",
        #[cfg(feature = "ssr")]
        (ReportPage, Lang::En) => "Page",
        #[cfg(feature = "ssr")]
        (ReportConverted, Lang::Vi) => "Đơn vị hiện nay; hồ sơ của đơn vị cũ được tính cho đơn vị mới (xã bị chia: chia đều)",
        #[cfg(feature = "ssr")]
        (ReportConverted, Lang::En) => "Today's units; old units' dossiers counted for the units they went into (split communes: equal shares)",
        #[cfg(feature = "ssr")]
        (ReportLateByAgency, Lang::Vi) => "Hồ sơ trễ hạn theo cơ quan",
        #[cfg(feature = "ssr")]
        (ReportLateByAgency, Lang::En) => "Late dossiers by agency",
        #[cfg(feature = "ssr")]
        (ReportNoAgency, Lang::Vi) => "(không ghi cơ quan)",
        #[cfg(feature = "ssr")]
        (ReportNoAgency, Lang::En) => "(no agency recorded)",
        #[cfg(feature = "ssr")]
        (ReportNoChildren, Lang::Vi) => "Không có đơn vị trực thuộc",
        #[cfg(feature = "ssr")]
        (ReportNoChildren, Lang::En) => "No units below this one",
        #[cfg(feature = "ssr")]
        (ReportRatePoints, Lang::Vi) => "điểm %",
        #[cfg(feature = "ssr")]
        (ReportRatePoints, Lang::En) => "pts",
        (UnitsChoice, Lang::Vi) => "Đơn vị hành chính",
        (UnitsChoice, Lang::En) => "Administrative units",
        (UnitsToday, Lang::Vi) => "Hiện nay (từ 01/7/2025)",
        (UnitsToday, Lang::En) => "Today's (from 1 July 2025)",
        (UnitsHistorical, Lang::Vi) => "Trước sắp xếp (có cấp huyện)",
        (UnitsHistorical, Lang::En) => "Before the reform (with districts)",
        (ConversionNote, Lang::Vi) => {
            "Hồ sơ của đơn vị cũ được tính cho đơn vị hiện nay theo bảng chuyển đổi ngày 01/7/2025; xã bị chia tách được chia đều hồ sơ cho các xã mới (≈). Số hồ sơ được chia:"
        }
        (ConversionNote, Lang::En) => {
            "Dossiers of old units count for today's units by the conversion table of 1 July 2025; a commune split between several new ones has its dossiers shared equally among them (≈). Dossiers shared:"
        }
        (NotConverted, Lang::Vi) => "Không quy đổi được (xã sáp nhập trước 2025), tính vào tổng:",
        (NotConverted, Lang::En) => "Not converted (communes merged before 2025), counted in the total:",
        (Apportioned, Lang::Vi) => "Có hồ sơ được chia đều từ xã cũ bị chia tách",
        (Apportioned, Lang::En) => "Includes equal shares of a split old commune's dossiers",
        (AllCommunes, Lang::Vi) => "Tất cả xã, phường",
        (AllCommunes, Lang::En) => "All communes",
        (CompareYearEarlier, Lang::Vi) => "So với cùng kỳ năm trước",
        (CompareYearEarlier, Lang::En) => "Compare with a year earlier",
        (CompareOff, Lang::Vi) => "Bỏ so sánh",
        (CompareOff, Lang::En) => "No comparison",
        (ChangeAgainst, Lang::Vi) => "Màu bản đồ: thay đổi so với kỳ gốc",
        (ChangeAgainst, Lang::En) => "Map colours: change against the base period",
        (ChangeChart, Lang::Vi) => "Thay đổi theo đơn vị",
        (ChangeChart, Lang::En) => "Change by unit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_round_trip() {
        for l in [Lang::Vi, Lang::En] {
            assert_eq!(l.code().parse::<Lang>().unwrap(), l);
            assert_eq!(l.other().other(), l);
        }
        assert_eq!(Lang::default(), Lang::Vi);
    }

    #[test]
    fn the_two_languages_differ_for_user_facing_titles() {
        assert_ne!(tr(Lang::Vi, Key::AppTitle), tr(Lang::En, Key::AppTitle));
        assert_ne!(tr(Lang::Vi, Key::OnTimeRate), tr(Lang::En, Key::OnTimeRate));
    }
}
