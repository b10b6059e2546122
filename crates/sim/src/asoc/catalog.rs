//! Fixed tables the data generator draws from: real AppScan DAST issue types
//! with their CWE, CVEs, enum member lists, URL paths, parameter names and
//! the words application names are made of.

/// Severity members in ASoC's order (compared by position in `$filter`);
/// `SeverityValue` is the position minus one (Informational 0 … Critical 4).
pub const SEVERITIES: &[&str] = &[
    "Undetermined",
    "Informational",
    "Low",
    "Medium",
    "High",
    "Critical",
];
/// Index of "Undetermined" in [`SEVERITIES`] (`SeverityValue` -1).
pub const SEV_UNDETERMINED: u8 = 0;
/// Index of "Informational" in [`SEVERITIES`].
pub const SEV_INFO: u8 = 1;
/// Index of "Low" in [`SEVERITIES`].
pub const SEV_LOW: u8 = 2;
/// Index of "Medium" in [`SEVERITIES`].
pub const SEV_MEDIUM: u8 = 3;
/// Index of "High" in [`SEVERITIES`].
pub const SEV_HIGH: u8 = 4;
/// Index of "Critical" in [`SEVERITIES`].
pub const SEV_CRITICAL: u8 = 5;

/// Issue status members, in ASoC's order.
pub const STATUSES: &[&str] = &[
    "Open",
    "InProgress",
    "Reopened",
    "Noise",
    "Fixed",
    "Passed",
    "New",
];
/// Index of "Open" in [`STATUSES`].
pub const ST_OPEN: u8 = 0;
/// Index of "InProgress" in [`STATUSES`].
pub const ST_IN_PROGRESS: u8 = 1;
/// Index of "Reopened" in [`STATUSES`].
pub const ST_REOPENED: u8 = 2;
/// Index of "Noise" in [`STATUSES`].
pub const ST_NOISE: u8 = 3;
/// Index of "Fixed" in [`STATUSES`].
pub const ST_FIXED: u8 = 4;
/// Index of "Passed" in [`STATUSES`].
pub const ST_PASSED: u8 = 5;
/// Index of "New" in [`STATUSES`].
pub const ST_NEW: u8 = 6;

/// Weights (per thousand) for the initial status of a generated issue,
/// indexed like [`STATUSES`].
pub const STATUS_WEIGHTS: [u32; 7] = [450, 70, 50, 80, 200, 70, 80];

/// App risk rating members.
pub const RISK_RATINGS: &[&str] = &["Unknown", "Low", "Medium", "High", "Critical"];
/// App business impact members.
pub const BUSINESS_IMPACTS: &[&str] = &["Unspecified", "Low", "Medium", "High", "Critical"];
/// Issue CVSS version members.
pub const CVSS_VERSIONS: &[&str] = &["None", "Cvss20", "Cvss30", "Cvss31"];
/// Index of "Cvss20" in [`CVSS_VERSIONS`].
pub const CVSS20: u8 = 1;
/// Index of "Cvss30" in [`CVSS_VERSIONS`].
pub const CVSS30: u8 = 2;
/// Index of "Cvss31" in [`CVSS_VERSIONS`].
pub const CVSS31: u8 = 3;
/// Issue diff result members.
pub const DIFF_RESULTS: &[&str] = &["NoChange", "Added", "Removed"];

/// Where on the page a vulnerable element sits; picks `ElementType` and the
/// pool `Element` is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementKind {
    /// A query or form parameter.
    Parameter,
    /// A cookie.
    Cookie,
    /// A response header.
    Header,
    /// The page itself.
    Page,
}

impl ElementKind {
    /// The served `ElementType`.
    pub fn label(self) -> &'static str {
        match self {
            ElementKind::Parameter => "Parameter",
            ElementKind::Cookie => "Cookie",
            ElementKind::Header => "Header",
            ElementKind::Page => "Page",
        }
    }

    /// The pool `Element` values are drawn from.
    pub fn pool(self) -> &'static [&'static str] {
        match self {
            ElementKind::Parameter => PARAMETERS,
            ElementKind::Cookie => COOKIES,
            ElementKind::Header => HEADERS,
            ElementKind::Page => PAGES,
        }
    }
}

/// One AppScan issue type.
#[derive(Debug, Clone, Copy)]
pub struct IssueType {
    /// `IssueTypeId`, e.g. `attCrossSiteScripting`.
    pub id: &'static str,
    /// `IssueType`, the display name.
    pub name: &'static str,
    /// `Cwe`.
    pub cwe: i64,
    /// The usual severity (index into [`SEVERITIES`]).
    pub severity: u8,
    /// Relative frequency.
    pub weight: u32,
    /// What `Element` refers to.
    pub element: ElementKind,
    /// Whether issues of this type name a CVE.
    pub has_cve: bool,
}

const fn t(
    id: &'static str,
    name: &'static str,
    cwe: i64,
    severity: u8,
    weight: u32,
    element: ElementKind,
) -> IssueType {
    IssueType {
        id,
        name,
        cwe,
        severity,
        weight,
        element,
        has_cve: false,
    }
}

use ElementKind::{Cookie, Header, Page, Parameter};

/// The issue types issues are drawn from (~30 common AppScan DAST findings).
pub const ISSUE_TYPES: &[IssueType] = &[
    t(
        "attCrossSiteScripting",
        "Cross-Site Scripting",
        79,
        SEV_HIGH,
        90,
        Parameter,
    ),
    t(
        "attBlindSqlInjection",
        "Blind SQL Injection",
        89,
        SEV_CRITICAL,
        25,
        Parameter,
    ),
    t(
        "attSqlInjection",
        "SQL Injection",
        89,
        SEV_CRITICAL,
        20,
        Parameter,
    ),
    t(
        "attCrossSiteRequestForgery",
        "Cross-Site Request Forgery",
        352,
        SEV_MEDIUM,
        60,
        Page,
    ),
    t(
        "attDirectoryTraversal",
        "Path Traversal",
        22,
        SEV_HIGH,
        20,
        Parameter,
    ),
    t(
        "attCommandInjection",
        "OS Command Injection",
        78,
        SEV_CRITICAL,
        8,
        Parameter,
    ),
    t(
        "attLinkInjection",
        "Link Injection (facilitates Cross-Site Request Forgery)",
        74,
        SEV_MEDIUM,
        35,
        Parameter,
    ),
    t(
        "attPhishingFrames",
        "Phishing Through Frames",
        79,
        SEV_MEDIUM,
        30,
        Parameter,
    ),
    t(
        "attOpenRedirect",
        "Open Redirect",
        601,
        SEV_MEDIUM,
        25,
        Parameter,
    ),
    t(
        "attXxeInjection",
        "XML External Entity Injection",
        611,
        SEV_HIGH,
        8,
        Parameter,
    ),
    t(
        "attServerSideRequestForgery",
        "Server-Side Request Forgery",
        918,
        SEV_HIGH,
        8,
        Parameter,
    ),
    t(
        "attLdapInjection",
        "LDAP Injection",
        90,
        SEV_HIGH,
        5,
        Parameter,
    ),
    t(
        "attXPathInjection",
        "XPath Injection",
        643,
        SEV_HIGH,
        5,
        Parameter,
    ),
    t(
        "attSessionFixation",
        "Session Identifier Not Updated",
        384,
        SEV_MEDIUM,
        20,
        Cookie,
    ),
    t(
        "attCookieNoSecure",
        "Missing Secure Attribute in Encrypted Session (SSL) Cookie",
        614,
        SEV_LOW,
        60,
        Cookie,
    ),
    t(
        "attCookieNoHttpOnly",
        "Missing HttpOnly Attribute in Session Cookie",
        1004,
        SEV_LOW,
        60,
        Cookie,
    ),
    t(
        "attHstsMissing",
        "Missing HTTP Strict-Transport-Security Header",
        523,
        SEV_LOW,
        70,
        Header,
    ),
    t(
        "attCspMissing",
        "Missing or insecure \"Content-Security-Policy\" header",
        1032,
        SEV_LOW,
        80,
        Header,
    ),
    t(
        "attClickjacking",
        "Missing or insecure \"X-Frame-Options\" header (Clickjacking)",
        1021,
        SEV_LOW,
        60,
        Header,
    ),
    t(
        "attXContentTypeOptions",
        "Missing or insecure \"X-Content-Type-Options\" header",
        693,
        SEV_LOW,
        60,
        Header,
    ),
    t(
        "attUnencryptedLoginRequest",
        "Unencrypted Login Request",
        523,
        SEV_HIGH,
        10,
        Page,
    ),
    t(
        "attAutocompletePassword",
        "Autocomplete HTML Attribute Not Disabled for Password Field",
        522,
        SEV_LOW,
        40,
        Parameter,
    ),
    t(
        "attApplicationErrorWeb",
        "Application Error",
        550,
        SEV_INFO,
        70,
        Parameter,
    ),
    t(
        "attDirectoryListing",
        "Directory Listing",
        548,
        SEV_MEDIUM,
        15,
        Page,
    ),
    t(
        "attTempFileDownload",
        "Temporary File Download",
        200,
        SEV_MEDIUM,
        15,
        Page,
    ),
    t(
        "attBodyParamsInQuery",
        "Body Parameters Accepted in Query",
        200,
        SEV_INFO,
        40,
        Parameter,
    ),
    t(
        "attEmailAddressPattern",
        "Email Address Pattern Found",
        359,
        SEV_INFO,
        45,
        Page,
    ),
    t(
        "attInternalIpDisclosure",
        "Internal IP Disclosure Pattern Found",
        200,
        SEV_INFO,
        35,
        Page,
    ),
    t(
        "attHtmlComments",
        "HTML Comments Sensitive Information Disclosure",
        615,
        SEV_INFO,
        45,
        Page,
    ),
    t(
        "attWeakTlsCipher",
        "SSL/TLS Weak Cipher Suites Supported",
        327,
        SEV_MEDIUM,
        25,
        Page,
    ),
    IssueType {
        id: "attVulnerableComponent",
        name: "Vulnerable Component",
        cwe: 1104,
        severity: SEV_HIGH,
        weight: 30,
        element: Page,
        has_cve: true,
    },
];

/// CVEs named by vulnerable-component issues: (id, CVSS in tenths).
pub const CVES: &[(&str, u8)] = &[
    ("CVE-2021-44228", 100),
    ("CVE-2021-45046", 90),
    ("CVE-2022-22965", 98),
    ("CVE-2017-5638", 100),
    ("CVE-2022-42889", 98),
    ("CVE-2020-1938", 98),
    ("CVE-2018-11776", 81),
    ("CVE-2019-11358", 61),
    ("CVE-2020-11022", 69),
    ("CVE-2021-23337", 72),
    ("CVE-2022-25883", 75),
    ("CVE-2023-44487", 75),
];

/// URL paths issues are found under.
pub const PATHS: &[&str] = &[
    "/",
    "/login",
    "/logout",
    "/register",
    "/account/profile",
    "/account/settings",
    "/account/password/reset",
    "/search",
    "/products",
    "/products/detail",
    "/cart",
    "/checkout",
    "/checkout/payment",
    "/orders",
    "/orders/history",
    "/api/v1/orders",
    "/api/v1/customers",
    "/api/v1/products",
    "/api/v1/auth/token",
    "/api/v2/reports",
    "/api/v2/search",
    "/admin",
    "/admin/users",
    "/admin/config",
    "/reports/export",
    "/reports/view",
    "/files/download",
    "/files/upload",
    "/help/faq",
    "/contact",
    "/static/js/app.js",
    "/static/js/vendor.js",
    "/static/css/site.css",
    "/backup/",
    "/images/",
    "/feedback",
    "/newsletter/subscribe",
    "/redirect",
    "/sso/callback",
    "/graphql",
];

/// Parameter names.
pub const PARAMETERS: &[&str] = &[
    "q",
    "id",
    "username",
    "password",
    "email",
    "returnUrl",
    "redirect",
    "page",
    "sort",
    "filter",
    "file",
    "path",
    "orderId",
    "customerId",
    "productId",
    "token",
    "lang",
    "callback",
    "url",
    "comment",
    "name",
    "amount",
];
/// Cookie names.
pub const COOKIES: &[&str] = &[
    "JSESSIONID",
    "ASP.NET_SessionId",
    "PHPSESSID",
    "session",
    "auth_token",
    "XSRF-TOKEN",
];
/// Header names.
pub const HEADERS: &[&str] = &[
    "Strict-Transport-Security",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Server",
];
/// Page-level elements.
pub const PAGES: &[&str] = &["(page)", "html", "form", "script", "response body"];

/// Application areas: (display word, host slug, business unit index).
pub const AREAS: &[(&str, &str, u8)] = &[
    ("Shop", "shop", 0),
    ("Payments", "pay", 1),
    ("Customer", "customer", 0),
    ("Billing", "billing", 1),
    ("Inventory", "inventory", 2),
    ("Logistics", "logistics", 2),
    ("HR", "hr", 3),
    ("Payroll", "payroll", 3),
    ("Partner", "partner", 4),
    ("Claims", "claims", 5),
    ("Support", "support", 4),
    ("Marketing", "marketing", 0),
    ("Analytics", "analytics", 6),
    ("Identity", "id", 6),
    ("Loyalty", "loyalty", 0),
    ("Booking", "booking", 4),
];

/// Application components: (display word, description).
pub const COMPONENTS: &[(&str, &str)] = &[
    ("Frontend", "Customer-facing web front end"),
    ("Portal", "Self-service portal"),
    ("API", "REST API used by the mobile and web clients"),
    ("Admin Console", "Internal administration console"),
    (
        "Gateway",
        "Edge gateway in front of the back-office services",
    ),
    ("Backoffice", "Back-office web application"),
    ("Mobile Backend", "Backend for the mobile apps"),
    ("Reporting", "Reporting and export service"),
    ("Service", "Internal web service"),
    ("Dashboard", "Operational dashboard"),
];

/// Business units: (name, id as a fixed GUID value).
pub const BUSINESS_UNITS: &[(&str, u128)] = &[
    ("Retail", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a40),
    ("Finance", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a41),
    ("Supply Chain", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a42),
    ("People", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a43),
    ("Partners", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a44),
    ("Insurance", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a45),
    ("Platform", 0x6f2a1c3e_4b5d_4e6f_8a7b_9c0d1e2f3a46),
];

/// The one asset group every app belongs to: (name, id).
pub const ASSET_GROUP: (&str, u128) = (
    "Default Asset Group",
    0x0c3d5e7f_1a2b_4c3d_9e8f_7a6b5c4d3e2f,
);

/// Who created apps.
pub const CREATORS: &[&str] = &[
    "alice.martin@example.com",
    "bob.chen@example.com",
    "secops@example.com",
    "dev.lead@example.com",
];

/// The scanner that produced every issue.
pub const SCANNER: &str = "AppScan Dynamic Analyzer";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        assert!(ISSUE_TYPES.len() >= 25);
        for t in ISSUE_TYPES {
            assert!(t.id.starts_with("att"), "{}", t.id);
            assert!((SEV_INFO..=SEV_CRITICAL).contains(&t.severity));
        }
        assert_eq!(STATUS_WEIGHTS.len(), STATUSES.len());
        let mut ids: Vec<_> = ISSUE_TYPES.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ISSUE_TYPES.len());
    }
}
