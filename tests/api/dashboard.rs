//! The operator dashboard at `/admin/`: sign-in with a token or an addon's
//! link, the session cookie and its CSRF token, scoped sessions, the pages
//! and their actions; and the same in headless Chromium.

use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const BETA_TOKEN: &str = "beta-admin-token-0123456789";

/// An app with instances `default` (a fake WHMCS that knows no client, so
/// its welcome alert is a dead letter) and `beta` (its own secret and
/// scoped admin token); one event of each is stored and the outbox drained.
async fn dashboard_app() -> (TestApp, MockServer) {
    let whmcs = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("api-error")))
        .mount(&whmcs)
        .await;
    let url = whmcs.uri();
    let toml = format!(
        r#"
        [instances.beta]
        secrets = "{OTHER_SECRET}"
        admin_token = "{BETA_TOKEN}"
        "#
    );
    let app = spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_WHMCS_URL", url.as_str()),
            ("PUENTE_WHMCS_IDENTIFIER", "puente"),
            ("PUENTE_WHMCS_SECRET", "api-secret-123"),
        ],
        &toml,
    )
    .await;
    fire(
        &app,
        "evt_welcome",
        "ClientAdd",
        json!({"client_id": 99}),
        system(),
    )
    .await;
    let beta = envelope_for("PuenteTestEvent", "beta");
    let sent = app
        .post_hook(
            HookRequest::signed(OTHER_SECRET, "evt_beta", beta.to_string())
                .header("puente-instance", "beta"),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    assert_eq!(app.outbox.drain().await.expect("drain").dead, 1);
    (app, whmcs)
}

/// A client that shows redirects instead of following them.
pub(crate) fn browser_like() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The session cookie a response sets, with its attributes.
pub(crate) fn set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("puente_session="))
        .map(str::to_owned)
}

/// `name=value` of a `Set-Cookie` header, for a `Cookie` header.
pub(crate) fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().expect("pair").to_owned()
}

pub(crate) async fn sign_in(app: &TestApp, token: &str) -> String {
    let response = browser_like()
        .post(app.url("/admin/login"))
        .form(&[("token", token)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/admin/");
    cookie_pair(&set_cookie(&response).expect("a session cookie"))
}

pub(crate) async fn get_page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = browser_like()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page");
    let status = response.status();
    (status, response.text().await.expect("text"))
}

pub(crate) fn csrf_of(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + r#"name="csrf" value=""#.len();
    let end = start + page[start..].find('"').expect("end of value");
    page[start..end].to_owned()
}

async fn post_form(
    app: &TestApp,
    cookie: Option<&str>,
    path: &str,
    csrf: &str,
) -> reqwest::Response {
    let mut request = browser_like().post(app.url(path)).form(&[("csrf", csrf)]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("post")
}

async fn dead_letter_id(app: &TestApp) -> String {
    app.column("SELECT CAST(id AS TEXT) FROM messages WHERE status = 'dead'")
        .await
        .pop()
        .expect("a dead letter")
}

async fn status_of(app: &TestApp, id: &str) -> String {
    app.column(&format!("SELECT status FROM messages WHERE id = {id}"))
        .await
        .pop()
        .expect("message")
}

#[tokio::test]
async fn without_a_session_pages_send_to_sign_in_and_posts_change_nothing() {
    let (app, _whmcs) = dashboard_app().await;
    let dead = dead_letter_id(&app).await;
    for path in [
        "/admin/",
        "/admin/events",
        "/admin/messages?status=dead",
        "/admin/transfers",
    ] {
        let response = browser_like().get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], "/admin/login", "{path}");
    }
    // A forged or expired cookie is no session either.
    let forged = "puente_session=*.99999999999.AAAA.AAAA";
    let (status, _) = get_page(&app, forged, "/admin/events").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let refused = post_form(&app, None, &format!("/admin/messages/{dead}/retry"), "x").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = post_form(
        &app,
        Some(forged),
        &format!("/admin/messages/{dead}/retry"),
        "x",
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &dead).await, "dead");

    let (status, login) = get_page(&app, "", "/admin/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(login.contains(r#"name="token" type="password""#), "{login}");
    app.stop().await;
}

#[tokio::test]
async fn the_admin_token_opens_a_strict_http_only_session_and_a_wrong_one_does_not() {
    let (app, _whmcs) = dashboard_app().await;
    let wrong = browser_like()
        .post(app.url("/admin/login"))
        .form(&[("token", "not-the-token")])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    assert_eq!(wrong.headers()[LOCATION], "/admin/login?failed=1");
    assert_eq!(set_cookie(&wrong), None);
    let (status, page) = get_page(&app, "", "/admin/login?failed=1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("not an admin token"));

    let response = browser_like()
        .post(app.url("/admin/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("post");
    let cookie = set_cookie(&response).expect("cookie");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    // Behind a proxy that terminates HTTPS, the cookie is Secure.
    let proxied = browser_like()
        .post(app.url("/admin/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("post");
    assert!(set_cookie(&proxied).expect("cookie").contains("; Secure"));
    let cookie = cookie_pair(&cookie);
    let (status, overview) = get_page(&app, &cookie, "/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("All instances"));
    assert!(
        overview.contains("Dead letters: <strong class=\"bad\">1</strong>"),
        "{overview}"
    );
    assert!(overview.contains("Instance beta") && overview.contains("Instance default"));
    // The WHMCS API answered the outbox (with an error about the client):
    // the connection works.
    assert!(overview.contains("working (last call"), "{overview}");

    // Signing out ends the cookie, on the server too: a copy of it kept
    // elsewhere no longer opens a page or posts a form.
    let csrf = csrf_of(&overview);
    let out = post_form(&app, Some(&cookie), "/admin/logout", &csrf).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&out).expect("removal").contains("Max-Age=0"));
    let (status, _) = get_page(&app, &cookie, "/admin/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let dead = dead_letter_id(&app).await;
    let retried = post_form(
        &app,
        Some(&cookie),
        &format!("/admin/messages/{dead}/retry"),
        &csrf,
    )
    .await;
    assert_eq!(retried.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &dead).await, "dead");
    // Another session of the same operator is not signed out with it.
    let other = sign_in(&app, ADMIN_TOKEN).await;
    assert_eq!(get_page(&app, &other, "/admin/").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn the_session_cookie_is_secure_whenever_the_dashboard_url_is_https() {
    let app = spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_DASHBOARD_URL", "https://puente.example.com/"),
        ],
        "",
    )
    .await;
    let response = browser_like()
        .post(app.url("/admin/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("post");
    let cookie = set_cookie(&response).expect("cookie");
    assert!(cookie.contains("; Secure"), "no proxy header: {cookie}");
    app.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_address_even_for_the_right_token_after() {
    let (app, _whmcs) = dashboard_app().await;
    for _ in 0..10 {
        let wrong = browser_like()
            .post(app.url("/admin/login"))
            .form(&[("token", "not-the-token")])
            .send()
            .await
            .expect("post");
        assert_eq!(wrong.headers()[LOCATION], "/admin/login?failed=1");
    }
    let limited = browser_like()
        .post(app.url("/admin/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("post");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = limited.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(set_cookie(&limited), None);
    assert!(
        limited
            .text()
            .await
            .expect("text")
            .contains("too many failed sign-ins")
    );
    // A link from the same address waits too, valid or not.
    let link = addon_link(&app, OTHER_SECRET, "beta", 4);
    let response = browser_like().get(&link).send().await.expect("link");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(set_cookie(&response), None);
    app.stop().await;
}

#[tokio::test]
async fn a_dead_letter_is_retried_from_its_page_with_the_session_csrf_token_only() {
    let (app, _whmcs) = dashboard_app().await;
    let cookie = sign_in(&app, ADMIN_TOKEN).await;
    let dead = dead_letter_id(&app).await;

    let (status, list) = get_page(&app, &cookie, "/admin/messages?status=dead").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains(&format!(r#"href="/admin/messages/{dead}""#)),
        "{list}"
    );
    assert!(!list.contains("PuenteTestEvent"));

    let (status, page) = get_page(&app, &cookie, &format!("/admin/messages/{dead}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Client Not Found"), "{page}");
    assert!(page.contains("Retry this message"));
    let csrf = csrf_of(&page);

    // Another session's token, or none: refused, nothing changes.
    let other = sign_in(&app, ADMIN_TOKEN).await;
    let (_, other_page) = get_page(&app, &other, "/admin/").await;
    let path = format!("/admin/messages/{dead}/retry");
    for wrong in ["", "forged", csrf_of(&other_page).as_str()] {
        let refused = post_form(&app, Some(&cookie), &path, wrong).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "csrf {wrong:?}");
    }
    assert_eq!(status_of(&app, &dead).await, "dead");

    let retried = post_form(&app, Some(&cookie), &path, &csrf).await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    let back = retried.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(back, format!("/admin/messages/{dead}?done=retried"));
    assert_eq!(status_of(&app, &dead).await, "planned");
    let (_, page) = get_page(&app, &cookie, &back).await;
    assert!(page.contains("Planned again"));
    assert!(
        page.contains(r#"<span class="status planned">planned</span>"#),
        "{page}"
    );
    // Planned is not retryable: the page has no button and a post says why.
    assert!(!page.contains("Retry this message"));
    let again = post_form(&app, Some(&cookie), &path, &csrf).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    app.stop().await;
}

#[tokio::test]
async fn a_scoped_session_sees_and_acts_on_its_own_instance_only() {
    let (app, _whmcs) = dashboard_app().await;
    let cookie = sign_in(&app, BETA_TOKEN).await;
    let dead = dead_letter_id(&app).await;

    let (status, events) = get_page(&app, &cookie, "/admin/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(events.contains("Instance beta"));
    assert!(
        events.contains("evt_beta") && !events.contains("evt_welcome"),
        "{events}"
    );
    let (status, _) = get_page(&app, &cookie, "/admin/events?instance=default").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_page(&app, &cookie, "/admin/events/evt_welcome").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_page(&app, &cookie, &format!("/admin/messages/{dead}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, overview) = get_page(&app, &cookie, "/admin/").await;
    assert!(overview.contains("Dead letters: <strong class=\"good\">0</strong>"));
    assert!(!overview.contains("Instance default"));
    let refused = post_form(
        &app,
        Some(&cookie),
        &format!("/admin/messages/{dead}/retry"),
        &csrf_of(&overview),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, &dead).await, "dead");

    // The event page shows the payload exactly as signed.
    let (status, event) = get_page(&app, &cookie, "/admin/events/evt_beta").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        event.contains("&quot;instance&quot;: &quot;beta&quot;"),
        "{event}"
    );
    app.stop().await;
}

/// A sign-in link as the addon's admin page makes it, from the addon's own
/// PHP code.
pub(crate) fn addon_link(app: &TestApp, secret: &str, instance: &str, admin: u32) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!(
        r#"define('WHMCS', true);
        require '{root}/php-shim/modules/addons/puente/lib/autoload.php';
        use WHMCS\Module\Addon\Puente\{{DashboardLink, Settings}};
        $settings = Settings::fromSources(['service_url' => '{url}', 'secret' => '{secret}', 'instance' => '{instance}'], []);
        echo DashboardLink::make($settings, {admin}, time());"#,
        url = app.address,
    );
    let output = Command::new("php")
        .args(["-r", &script])
        .output()
        .expect("php runs (make test installs php-cli)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[tokio::test]
async fn the_addon_link_signs_in_once_to_its_own_instance() {
    let (app, _whmcs) = dashboard_app().await;
    let link = addon_link(&app, OTHER_SECRET, "beta", 4);
    assert!(link.starts_with(&format!(
        "{}/admin/link?instance=beta&admin=4&",
        app.address
    )));

    let response = browser_like().get(&link).send().await.expect("link");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = set_cookie(&response).expect("session");
    assert!(cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"));
    let page = response.text().await.expect("text");
    // Onward from the service's own page, so the strict cookie is sent.
    assert!(
        page.contains(r#"http-equiv="refresh" content="0;url=/admin/""#),
        "{page}"
    );
    let (status, overview) = get_page(&app, &cookie_pair(&cookie), "/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("Instance beta") && !overview.contains("All instances"));

    // Used once; another instance's secret or a changed field: refused.
    let again = browser_like().get(&link).send().await.expect("again");
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(again.text().await.expect("text").contains("already used"));
    let wrong_secret = addon_link(&app, SECRET, "beta", 4);
    let refused = browser_like().get(&wrong_secret).send().await.expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(set_cookie(&refused), None);
    let tampered = addon_link(&app, OTHER_SECRET, "beta", 4).replace("admin=4", "admin=1");
    let refused = browser_like().get(&tampered).send().await.expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let default_link = addon_link(&app, SECRET, "default", 2);
    let response = browser_like().get(&default_link).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    let malformed = browser_like()
        .get(app.url("/admin/link?instance=beta"))
        .send()
        .await
        .expect("get");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn a_link_opens_a_named_instance_only_with_that_instance_own_secret() {
    let toml = format!(
        r#"
        [instances.beta]
        secrets = "{OTHER_SECRET}"
        [instances.gamma]
        timezone = "UTC"
        "#
    );
    let app = spawn_app_with(&[("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)], &toml).await;
    // gamma verifies hooks with the global secret, which every install on
    // it holds: that opens no dashboard scoped to gamma.
    let gamma = addon_link(&app, SECRET, "gamma", 4);
    let refused = browser_like().get(&gamma).send().await.expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(set_cookie(&refused), None);
    assert!(
        refused
            .text()
            .await
            .expect("text")
            .contains("no hook secret of its own")
    );
    // beta's link with the global or default's secret: refused.
    let beta_with_global = addon_link(&app, SECRET, "beta", 4);
    let refused = browser_like()
        .get(&beta_with_global)
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // default's own secrets are the global ones, and beta's opens no default.
    let default_with_beta = addon_link(&app, OTHER_SECRET, "default", 4);
    let refused = browser_like()
        .get(&default_with_beta)
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let default = addon_link(&app, SECRET, "default", 4);
    let opened = browser_like().get(&default).send().await.expect("get");
    assert_eq!(opened.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_sessions_and_never_accepts_a_used_link_again() {
    let (app, _whmcs) = dashboard_app().await;
    let link = addon_link(&app, OTHER_SECRET, "beta", 4);
    let response = browser_like().get(&link).send().await.expect("link");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_pair(&set_cookie(&response).expect("session"));
    let global = sign_in(&app, ADMIN_TOKEN).await;
    let (_, overview) = get_page(&app, &global, "/admin/").await;
    let csrf = csrf_of(&overview);
    let out = post_form(&app, Some(&global), "/admin/logout", &csrf).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    let app = app.restart().await;
    // The link was signed for another port: the service does not care.
    let port = link
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .expect("port")
        .to_owned();
    let again = link.replace(
        &format!("127.0.0.1:{port}"),
        &format!("127.0.0.1:{}", app.port),
    );
    let refused = browser_like().get(&again).send().await.expect("again");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.expect("text").contains("already used"));
    // The session it opened still works; the signed-out one does not.
    let (status, page) = get_page(&app, &cookie, "/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Instance beta"));
    assert_eq!(
        get_page(&app, &global, "/admin/").await.0,
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

#[tokio::test]
async fn the_work_lists_show_what_is_in_flight_with_its_next_step() {
    let (app, _whmcs) = dashboard_app().await;
    let cookie = sign_in(&app, ADMIN_TOKEN).await;
    for (path, empty) in [
        ("/admin/upgrades", "No upgrades."),
        ("/admin/cancellations", "No cancellations."),
        ("/admin/transfers", "No transfers."),
        ("/admin/transfers?status=completed", "No transfers."),
    ] {
        let (status, page) = get_page(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(page.contains(empty), "{path}: {page}");
        assert!(page.contains("in flight ("), "{path}");
    }
    let (status, page) = get_page(&app, &cookie, "/admin/upgrades?status=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("is not one of"), "{page}");
    app.stop().await;
}

/// Chromium's WebDriver, on a free port, until dropped.
pub(crate) struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// Starts the driver and waits for the line saying it listens.
    pub(crate) fn start() -> Self {
        use std::io::{BufRead, BufReader};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (make test installs Debian's chromium-driver)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let started = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|line| line.contains("started successfully"));
        assert!(started, "chromedriver did not start");
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, port }
    }

    /// A headless Chromium session.
    pub(crate) async fn session(&self) -> fantoccini::Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--window-size=1280,900"]}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a headless Chromium session (make test installs Debian's chromium)")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves what the browser shows, for a person to look at.
pub(crate) async fn screenshot(browser: &fantoccini::Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

pub(crate) async fn text_of(browser: &fantoccini::Client, css: &str) -> String {
    browser
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .text()
        .await
        .expect("text")
}

/// On the sign-in form: types the admin token, submits, and waits for the
/// overview.
pub(crate) async fn sign_in_in_browser(browser: &fantoccini::Client, app: &TestApp) {
    browser
        .find(fantoccini::Locator::Id("token"))
        .await
        .expect("token field")
        .send_keys(ADMIN_TOKEN)
        .await
        .expect("type");
    follow(
        browser,
        app,
        fantoccini::Locator::Css("main button[type=submit]"),
        "/admin/",
    )
    .await;
}

/// Clicks what `locator` finds and waits until the browser shows `path`.
pub(crate) async fn follow(
    browser: &fantoccini::Client,
    app: &TestApp,
    locator: fantoccini::Locator<'_>,
    path: &str,
) {
    browser
        .find(locator)
        .await
        .unwrap_or_else(|error| panic!("{locator:?}: {error}"))
        .click()
        .await
        .expect("click");
    let url = reqwest::Url::parse(&app.url(path)).expect("URL");
    browser
        .wait()
        .for_url(&url)
        .await
        .unwrap_or_else(|error| panic!("waiting for {path}: {error}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_operator_signs_in_sees_an_event_and_retries_a_dead_letter() {
    use fantoccini::Locator;
    let (app, whmcs) = dashboard_app().await;
    let dead = dead_letter_id(&app).await;
    // Three minutes of samples, as the service takes them each minute.
    let names = ["beta".to_owned(), "default".to_owned()];
    for backlog in [3, 1, 0] {
        let backlog = std::collections::BTreeMap::from([("default".to_owned(), backlog)]);
        app.metrics.sample(jiff::Timestamp::now(), backlog, &names);
    }
    let driver = ChromeDriver::start();
    let browser = driver.session().await;

    // Without a session: the sign-in form.
    browser
        .goto(&app.url("/admin/messages?status=dead"))
        .await
        .expect("goto");
    assert_eq!(
        browser.current_url().await.expect("url").path(),
        "/admin/login"
    );
    screenshot(&browser, "1-sign-in").await;

    sign_in_in_browser(&browser, &app).await;
    assert_eq!(text_of(&browser, "h1").await, "Overview");
    // The charts: one bar a minute; 1 event in the first minute.
    let charts = browser
        .find_all(Locator::Css("figure.chart svg"))
        .await
        .expect("charts");
    assert_eq!(charts.len(), 3);
    assert_eq!(
        browser
            .find_all(Locator::Css("figure.chart rect"))
            .await
            .expect("bars")
            .len(),
        9
    );
    assert!(
        text_of(&browser, "figure.chart")
            .await
            .contains("Events accepted per minute: 0")
    );
    screenshot(&browser, "2-overview").await;

    // An event, then its page.
    follow(&browser, &app, Locator::LinkText("Events"), "/admin/events").await;
    assert!(text_of(&browser, "table").await.contains("evt_welcome"));
    screenshot(&browser, "3-events").await;
    follow(
        &browser,
        &app,
        Locator::LinkText("evt_welcome"),
        "/admin/events/evt_welcome",
    )
    .await;
    assert!(text_of(&browser, "pre").await.contains("\"client_id\": 99"));
    screenshot(&browser, "4-event").await;

    // The dead letter, retried with its button.
    follow(
        &browser,
        &app,
        Locator::LinkText("Dead letters"),
        "/admin/messages?status=dead",
    )
    .await;
    screenshot(&browser, "5-dead-letters").await;
    let page = format!("/admin/messages/{dead}");
    follow(
        &browser,
        &app,
        Locator::LinkText(&format!("#{dead}")),
        &page,
    )
    .await;
    assert_eq!(text_of(&browser, ".status").await, "dead");
    screenshot(&browser, "6-dead-letter").await;
    let retried = format!("{page}?done=retried");
    follow(
        &browser,
        &app,
        Locator::XPath("//button[text()='Retry this message']"),
        &retried,
    )
    .await;
    assert_eq!(text_of(&browser, ".status").await, "planned");
    assert!(
        text_of(&browser, "[role=status]")
            .await
            .contains("Planned again")
    );
    assert_eq!(status_of(&app, &dead).await, "planned");
    screenshot(&browser, "7-planned-again").await;

    // The work lists, with nothing in flight here.
    send_diagnostics(&app, "default", SECRET, "diag_browser").await;
    for (name, path) in [
        ("upgrades", "/admin/upgrades"),
        ("cancellations", "/admin/cancellations"),
        ("transfers", "/admin/transfers"),
        ("diagnostics", "/admin/diagnostics"),
        ("templates", "/admin/templates"),
        ("replies", "/admin/replies"),
        ("hooks", "/admin/hooks"),
    ] {
        let label = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        follow(&browser, &app, Locator::LinkText(&label), path).await;
        assert_eq!(text_of(&browser, "h1").await, label);
        screenshot(&browser, &format!("7-{name}")).await;
    }
    // The hooks page (the last one shown): default's ClientAdd arrived,
    // beta never sent one.
    let client_add = |instance: &str| {
        format!("//section[h2[text()='Instance {instance}']]//tr[td/code[text()='ClientAdd']]")
    };
    let row = |instance: &str| {
        let xpath = client_add(instance);
        let browser = browser.clone();
        async move {
            browser
                .find(Locator::XPath(&xpath))
                .await
                .unwrap_or_else(|error| panic!("{xpath}: {error}"))
                .text()
                .await
                .expect("text")
        }
    };
    let default_row = row("default").await;
    assert!(
        default_row.contains("alerts") && !default_row.contains("never"),
        "{default_row}"
    );
    assert!(row("beta").await.contains("never"));

    // Narrow screen: the pages still fit.
    browser.set_window_size(390, 844).await.expect("resize");
    browser.goto(&app.url("/admin/")).await.expect("goto");
    let fits = browser
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(fits, json!(true), "the overview fits a phone's width");
    screenshot(&browser, "8-phone").await;
    browser.set_window_size(1280, 900).await.expect("resize");

    // Signing out: the next page asks to sign in again.
    follow(
        &browser,
        &app,
        Locator::XPath("//button[text()='Sign out']"),
        "/admin/login",
    )
    .await;
    browser
        .goto(&app.url("/admin/messages"))
        .await
        .expect("goto");
    assert_eq!(
        browser.current_url().await.expect("url").path(),
        "/admin/login"
    );

    // From the addon's page on WHMCS's site (another site: 127.0.0.1 vs
    // localhost), the link signs in to beta's view: the strict cookie is
    // set, and sent when the service's own page moves on to the dashboard.
    let link =
        addon_link(&app, OTHER_SECRET, "beta", 4).replace("http://127.0.0.1:", "http://localhost:");
    let addon_page = format!(
        r#"<!doctype html><title>WHMCS · puente</title><a id="open" href="{link}">Open the puente dashboard</a>"#
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(addon_page, "text/html"))
        .mount(&whmcs)
        .await;
    browser
        .goto(&format!("{}/admin/addonmodules.php", whmcs.uri()))
        .await
        .expect("goto");
    browser
        .find(Locator::Id("open"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    let overview = reqwest::Url::parse(&app.url("/admin/"))
        .expect("URL")
        .as_str()
        .replace("127.0.0.1", "localhost");
    browser
        .wait()
        .for_url(&reqwest::Url::parse(&overview).expect("URL"))
        .await
        .expect("the dashboard after the link");
    assert_eq!(text_of(&browser, "header .muted").await, "Instance beta");
    screenshot(&browser, "9-signed-in-from-whmcs").await;

    browser.close().await.expect("close");
    drop(driver);
    app.stop().await;
}

#[tokio::test]
async fn a_failed_upgrade_is_listed_with_its_next_step_and_retried_from_the_list() {
    let (_whmcs, app) = app_with_a_refused_upgrade().await;
    assert_eq!(app.upgrades.drain().await.expect("drain").failed, 1);
    let cookie = sign_in(&app, ADMIN_TOKEN).await;

    let (status, page) = get_page(&app, &cookie, "/admin/upgrades").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("(WHMCS package #77)"), "{page}");
    assert!(page.contains("Service ID Not Found"));
    assert!(page.contains("fix what WHMCS refused (see the error), then retry"));
    let (_, overview) = get_page(&app, &cookie, "/admin/").await;
    assert!(
        overview.contains("Failed upgrades: <strong>1</strong>"),
        "{overview}"
    );

    let id = app
        .column("SELECT CAST(id AS TEXT) FROM upgrade_applications")
        .await
        .pop()
        .expect("row");
    let retried = post_form(
        &app,
        Some(&cookie),
        &format!("/admin/upgrades/{id}/retry"),
        &csrf_of(&page),
    )
    .await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    assert_eq!(retried.headers()[LOCATION], "/admin/upgrades?done=retried");
    let (_, page) = get_page(&app, &cookie, "/admin/upgrades?done=retried").await;
    assert!(page.contains("Planned again"));
    assert!(
        page.contains("the worker sets the new product and price in WHMCS"),
        "{page}"
    );
    app.stop().await;
}

/// A diagnostics report as the addon's Diagnostics tab sends it, from the
/// admin area of `instance`, signed with `secret`.
async fn send_diagnostics(
    app: &TestApp,
    instance: &str,
    secret: &str,
    id: &str,
) -> reqwest::Response {
    let mut body = envelope_for("diagnostics.run", instance);
    body["context"]["actor"] = json!({"kind": "admin", "id": 1});
    body["context"]["source"] = json!("adminarea");
    body["data"] = json!({
        "addon": {"version": env!("CARGO_PKG_VERSION"), "php": "8.2.36", "whmcs": "8.13.1-release.1",
                  "timezone": "UTC", "utc_offset_seconds": 0, "now": jiff::Timestamp::now().as_second(),
                  "hooks": ["ClientAdd", "InvoicePaid"]},
        "rows": [{"check": "cron", "title": "WHMCS cron", "status": "warn",
                  "detail": "the cron <has not run>", "fix": "check crons/cron.php", "assumptions": [12]}],
    });
    let mut request = HookRequest::signed(secret, id, body.to_string());
    if instance != "default" {
        request = request.header("puente-instance", instance);
    }
    app.post_signed("/v1/diagnostics", request).await
}

#[tokio::test]
async fn each_installs_last_diagnostics_report_is_on_the_dashboard_for_its_staff_only() {
    let (app, _whmcs) = dashboard_app().await;
    let answer = json_of(
        send_diagnostics(&app, "default", SECRET, "diag_default").await,
        StatusCode::OK,
    )
    .await;
    let checks: Vec<&str> = answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["check"].as_str().expect("check"))
        .collect();
    for check in [
        "service",
        "versions",
        "clocks",
        "timezone",
        "whmcs_api",
        "action_php",
        "hooks_seen",
    ] {
        assert!(checks.contains(&check), "{check}: {checks:?}");
    }
    // The fake WHMCS answers every action "Client Not Found": puente's
    // credentials reach it, and its role allows every probe.
    let permissions = &answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["check"] == "api_permissions")
        .expect("a permissions row")
        .clone();
    assert_eq!(permissions["status"], "pass", "{permissions}");
    assert_eq!(
        send_diagnostics(&app, "beta", OTHER_SECRET, "diag_beta")
            .await
            .status(),
        StatusCode::OK
    );
    // Only staff of the install run it.
    let mut from_a_client = envelope("diagnostics.run");
    from_a_client["data"] = json!({"addon": {}, "rows": []});
    assert_error(
        app.post_signed(
            "/v1/diagnostics",
            HookRequest::signed(SECRET, "diag_client", from_a_client.to_string()),
        )
        .await,
        StatusCode::FORBIDDEN,
        "actor_not_admin",
    )
    .await;

    let everyone = sign_in(&app, ADMIN_TOKEN).await;
    let (status, page) = get_page(&app, &everyone, "/admin/diagnostics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Instance default") && page.contains("Instance beta"),
        "{page}"
    );
    assert!(
        page.contains("the cron &lt;has not run&gt;"),
        "escaped: {page}"
    );
    assert!(page.contains("check crons/cron.php"));
    let beta_staff = sign_in(&app, BETA_TOKEN).await;
    let (_, scoped) = get_page(&app, &beta_staff, "/admin/diagnostics").await;
    assert!(
        scoped.contains("Instance beta") && !scoped.contains("Instance default"),
        "{scoped}"
    );
    app.stop().await;
}
