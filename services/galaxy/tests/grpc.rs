//! The galaxy service over real gRPC: the catalog has the 29 bodies, configuration changes are
//! validated (a bad one changes nothing) and persisted in PostgreSQL (a second instance over the
//! same database sees them), and the in-memory mode behaves the same within one process.
#![allow(clippy::unwrap_used)]

use std::hash::{BuildHasher, RandomState};

use galaxy_galaxy::{ConfigStore, GalaxyServer, GalaxyService};
use galaxy_proto::v1;
use galaxy_proto::v1::galaxy_client::GalaxyClient;
use galaxy_storage::{PostgresConfig, PostgresStore};
use tonic::Code;
use tonic::transport::Channel;

const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn admin() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn serve(store: ConfigStore) -> GalaxyClient<Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(GalaxyServer::new(GalaxyService::new(store)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    GalaxyClient::connect(format!("http://{address}")).await.unwrap()
}

#[tokio::test]
async fn the_catalog_has_the_sun_planets_and_moons() {
    let mut client = serve(ConfigStore::in_memory()).await;
    let bodies = client.get_bodies(v1::GetBodiesRequest {}).await.unwrap().into_inner().bodies;
    assert_eq!(bodies.len(), 29);
    assert_eq!(bodies[0].name, "Sun");
    assert_eq!(bodies[0].kind, v1::BodyKind::Star as i32);
    let moon = bodies.iter().find(|body| body.name == "Moon").unwrap();
    assert_eq!((moon.parent.as_str(), moon.kind), ("Earth", v1::BodyKind::Moon as i32));
    assert!(bodies.iter().all(|body| body.gm > 0.0 && body.radius > 0.0 && body.position.is_some()));
}

#[tokio::test]
async fn config_changes_are_validated_and_persisted_in_postgres() {
    let database = format!("galaxy_config_{:016x}", RandomState::new().hash_one(std::process::id()));
    admin().await.batch_execute(&format!("CREATE DATABASE {database}")).await.unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    let store = PostgresStore::connect(&PostgresConfig::new(url.clone())).await.unwrap();
    let mut client = serve(ConfigStore::new(galaxy_storage::Database::Postgres(store))).await;

    let initial = client.get_config(v1::GetConfigRequest {}).await.unwrap().into_inner();
    assert_eq!((initial.tick_rate_hz, initial.time_scale, initial.registrations_open), (1.0, 1.0, true));
    assert_eq!(initial.spawn_body, "Earth");

    let changed = client
        .update_config(v1::UpdateConfigRequest {
            tick_rate_hz: Some(10.0),
            time_scale: None,
            registrations_open: Some(false),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((changed.tick_rate_hz, changed.time_scale, changed.registrations_open), (10.0, 1.0, false));

    for bad in [
        v1::UpdateConfigRequest { tick_rate_hz: Some(0.0), time_scale: Some(2.0), registrations_open: None },
        v1::UpdateConfigRequest { tick_rate_hz: Some(f64::NAN), time_scale: None, registrations_open: None },
        v1::UpdateConfigRequest { tick_rate_hz: None, time_scale: Some(1000.0), registrations_open: Some(true) },
    ] {
        let status = client.update_config(bad).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    }
    // Nothing above changed anything, and a second instance over the same database agrees.
    let second_store = PostgresStore::connect(&PostgresConfig::new(url)).await.unwrap();
    let mut second = serve(ConfigStore::new(galaxy_storage::Database::Postgres(second_store))).await;
    let seen = second.get_config(v1::GetConfigRequest {}).await.unwrap().into_inner();
    assert_eq!((seen.tick_rate_hz, seen.time_scale, seen.registrations_open), (10.0, 1.0, false));

    admin().await.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await.unwrap();
}

#[tokio::test]
async fn in_memory_config_works_within_the_process() {
    let mut client = serve(ConfigStore::in_memory()).await;
    let changed = client
        .update_config(v1::UpdateConfigRequest { tick_rate_hz: None, time_scale: Some(50.0), registrations_open: None })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.time_scale, 50.0);
    assert_eq!(client.get_config(v1::GetConfigRequest {}).await.unwrap().into_inner().time_scale, 50.0);
}
