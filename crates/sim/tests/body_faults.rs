//! Body faults: a served replacement page, a half body with a matching length, and a
//! connection dropped after half the body — the shapes the fault soak and the bad-input
//! corpus feed the client.

mod common;

use common::{Api, small, start};
use reqwest::StatusCode;
use sim::Fault;
use sim::asoc::Endpoint;

#[tokio::test]
async fn body_faults_replace_cut_and_reset_then_recover() {
    let sim = start(small()).await;
    let h = sim.handle();
    let api = Api::login(&sim).await;
    let whole = api.get("Apps", &[]).await.bytes().await.expect("body");
    assert!(serde_json::from_slice::<serde_json::Value>(&whole).is_ok());

    h.inject(Fault::Body {
        body: "{\"Count\": 1}".into(),
        times: 1,
        endpoint: Endpoint::Apps,
    });
    let r = api.get("Apps", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.expect("text"), "{\"Count\": 1}");

    h.inject(Fault::Truncate {
        times: 1,
        endpoint: Endpoint::Apps,
    });
    let r = api.get("Apps", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cut = r.bytes().await.expect("a complete, short body");
    assert_eq!(&cut[..], &whole[..whole.len() / 2]);
    assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());

    h.inject(Fault::Reset {
        times: 1,
        endpoint: Endpoint::Apps,
    });
    // The connection drops mid-answer: the client sees the request or the body fail.
    let sent = api
        .client
        .get(format!("{}/api/v4/Apps", api.base))
        .bearer_auth(&api.token)
        .send()
        .await;
    let broke = match sent {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broke, "a reset answer must not read as a whole body");

    // Faults were used up; issues were never affected.
    let again = api.get("Apps", &[]).await.bytes().await.expect("body");
    assert_eq!(again, whole);
}
