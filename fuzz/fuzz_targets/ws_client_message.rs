//! The player's WebSocket text messages through the gateway's own code: the parser every
//! connection runs on each message (`parse_client_message`), the gateway's check of a parsed
//! command (`order`), the `ValidateCommand` request it becomes, and the replies a client gets
//! for what is refused (`failure_reply`, `rejected`). What the players service then does first,
//! `galaxy_proto::convert`, runs on that request too.
//!
//! Never panics, and:
//! - an `auth` carries the `token` string as sent (empty when missing or not a string);
//! - a command's echoed `id` is the one sent when that is a number or a string of at most 64
//!   characters (docs/protocol.md), and absent otherwise;
//! - control values are finite, and within the documented ranges (throttle 0..1, rotation −1..1)
//!   exactly when the players service's conversion accepts them: the gateway passes them on as
//!   sent and the service refuses the rest (`rejected`, `invalid_argument`);
//! - an attitude mode the gateway accepts is one the protocol names, and reaches the players
//!   service as the protobuf mode that converts back to it; an unknown one is refused with 422
//!   `invalid_argument` quoting at most 32 characters of it; targets reach the service as sent;
//! - a command written back the way the protocol shows it parses to the same command (numbers
//!   within 4 ULPs: serde_json, without its `float_roundtrip` feature, reads some decimal
//!   numbers an ULP or two off, so a re-read of its own output may move; see the README);
//! - every refusal renders to the reply the client gets: one JSON object, `error` with `code`
//!   and `message`, or `rejected` with `id`, `command`, `code` and `reason`; an unknown `type` is
//!   named by at most 32 characters of it.
//!
//! Input: the message's bytes. They are parsed as text when they are UTF-8, and also decoded
//! lossily (a browser only sends UTF-8 and the gateway closes with 1007 on anything else, so the
//! lossy text stands for the nearest message that gets through). Messages larger than
//! `MAX_CLIENT_MESSAGE_BYTES` close the socket (1009) before any parsing, so they are skipped.
#![no_main]

use galaxy_engine::AttitudeMode;
use galaxy_gateway::MAX_CLIENT_MESSAGE_BYTES;
use galaxy_gateway::fuzzing::{
    self, ClientMessage, Command, ControlJson, Order, ParseFailure, TargetJson, command_request, failure_reply,
    parse_client_message, rejected_reply,
};
use galaxy_proto::{convert, v1};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// Longest `id` string echoed back, in characters (docs/protocol.md).
const MAX_ID_CHARS: usize = 64;
/// Characters of an unknown type or mode name a reply quotes.
const MAX_QUOTED_CHARS: usize = 32;
/// How far a re-read number may move (see the module documentation).
const MAX_REREAD_ULPS: u64 = 4;
const TOKEN: &str = "token-of-the-connection";
const SHIP: &str = "ship-7";

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_CLIENT_MESSAGE_BYTES {
        return;
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_message(text);
    } else {
        let lossy = String::from_utf8_lossy(data);
        if lossy.len() <= MAX_CLIENT_MESSAGE_BYTES {
            check_message(&lossy);
        }
    }
});

fn check_message(text: &str) {
    // An independent reading of the same text, to check the parser's answer against.
    let value: Option<Value> = serde_json::from_str(text).ok();
    let kind = value.as_ref().and_then(|value| value.get("type")).and_then(Value::as_str);
    let parsed = parse_client_message(text);
    match parsed {
        Ok(ClientMessage::Auth { token }) => {
            assert_eq!(kind, Some("auth"), "{text:?} parsed as auth");
            let sent = value.as_ref().and_then(|value| value.get("token")).and_then(Value::as_str).unwrap_or("");
            assert_eq!(token, sent, "the token read is not the one sent");
        }
        Ok(ClientMessage::Command { id, command }) => {
            let value = value.as_ref().expect("a command was read from text that is not JSON");
            assert_eq!(kind, Some(command.name()), "{text:?} parsed as {command:?}");
            check_id(id.as_ref(), value);
            check_command(id, command);
        }
        Err(failure) => check_failure(failure, value.as_ref(), kind),
    }
}

/// The `id` echoed must be the one sent if that is a number or a string of at most 64
/// characters, and nothing otherwise.
fn check_id(id: Option<&Value>, message: &Value) {
    let sent = message.get("id");
    let echoable = sent
        .is_some_and(|sent| sent.is_number() || sent.as_str().is_some_and(|text| text.chars().count() <= MAX_ID_CHARS));
    if echoable {
        assert_eq!(id, sent, "id {sent:?} sent, {id:?} echoed");
    } else {
        assert_eq!(id, None, "id {sent:?} is neither a number nor a short string, but {id:?} is echoed");
    }
}

fn check_command(id: Option<Value>, command: Command) {
    if let Command::Control(control) = &command {
        for value in [control.throttle, control.pitch, control.yaw, control.roll] {
            assert!(value.is_finite(), "non-finite control value {value} in {control:?}");
        }
    }
    // Written back as the protocol shows it and read again: the same command.
    let written = write_command(id.as_ref(), &command);
    match parse_client_message(&written) {
        Ok(ClientMessage::Command { id: id_again, command: again }) => {
            assert!(
                same_value(id.as_ref(), id_again.as_ref()) && same_command(&command, &again),
                "{command:?} (id {id:?}) written as {written:?} reads back as {again:?} (id {id_again:?})"
            );
        }
        other => panic!("{command:?} written as {written:?} reads back as {other:?}"),
    }
    let name = command.name();
    let sent_mode = match &command {
        Command::AttitudeMode { mode, .. } => Some(mode.clone()),
        _ => None,
    };
    let sent_target = match &command {
        Command::AttitudeMode { target, .. } => target.clone(),
        _ => None,
    };
    let sent_control = match &command {
        Command::Control(control) => Some(*control),
        _ => None,
    };
    let sent_class = match &command {
        Command::Respawn { class } => Some(class.clone()),
        _ => None,
    };
    match fuzzing::order(command) {
        Ok(Order::Submit { control, attitude_mode, target }) => {
            assert_eq!(control, sent_control, "the inputs sent are not the ones submitted");
            assert_eq!(target, sent_target, "the target sent is not the one submitted");
            match sent_mode {
                None => assert_eq!(attitude_mode, v1::AttitudeMode::Unspecified, "a control command changes the mode"),
                Some(name) => {
                    let mode = AttitudeMode::from_name(&name)
                        .unwrap_or_else(|| panic!("the unknown attitude mode {name:?} was accepted"));
                    assert_eq!(
                        attitude_mode,
                        v1::AttitudeMode::from(mode),
                        "mode {name:?} submitted as {attitude_mode:?}"
                    );
                }
            }
            // An attitude change re-sends the pilot's current inputs (zero when unknown).
            let sent = control.unwrap_or_default();
            let request = command_request(TOKEN, SHIP, sent, attitude_mode, target.clone());
            check_request(&request, sent, attitude_mode, target);
        }
        Ok(Order::Respawn { class }) => {
            assert_eq!(Some(class), sent_class, "the class sent is not the one asked for");
        }
        Err(error) => {
            let mode = sent_mode.unwrap_or_else(|| panic!("a {name} command was refused by the gateway: {error}"));
            assert!(AttitudeMode::from_name(&mode).is_none(), "the known mode {mode:?} was refused: {error}");
            assert_eq!((error.status.as_u16(), error.code), (422, "invalid_argument"), "{error}");
            // `{:?}` of at most 32 characters: each escapes to at most 10 (`\u{10ffff}`), plus quotes.
            let bound = "unknown attitude mode ".len() + 2 + MAX_QUOTED_CHARS * 10;
            assert!(error.message.chars().count() <= bound, "the refusal quotes too much: {:?}", error.message);
            let reply = rejected_reply(id.as_ref(), name, &error);
            check_rejected(&reply, id.as_ref(), name, "invalid_argument");
        }
    }
}

/// What the players service gets, and what its conversion (the first thing it does) makes of it.
fn check_request(
    request: &v1::ValidateCommandRequest,
    control: ControlJson,
    mode: v1::AttitudeMode,
    target: Option<TargetJson>,
) {
    assert_eq!((request.token.as_str(), request.ship_id.as_str()), (TOKEN, SHIP));
    let sent = request.control.expect("every command carries the pilot's inputs");
    assert_eq!(
        [sent.throttle, sent.pitch, sent.yaw, sent.roll].map(f64::to_bits),
        [control.throttle, control.pitch, control.yaw, control.roll].map(f64::to_bits),
        "the inputs changed on the way to the players service"
    );
    let in_range = (0.0..=1.0).contains(&control.throttle)
        && [control.pitch, control.yaw, control.roll].iter().all(|value| (-1.0..=1.0).contains(value));
    let converted = convert::ship_control(request.control.as_ref());
    assert_eq!(
        converted.is_ok(),
        in_range,
        "the documented control ranges and the players service disagree on {control:?}: {converted:?}"
    );
    if let Ok(converted) = converted {
        for value in [converted.throttle, converted.pitch, converted.yaw, converted.roll] {
            assert!(value.is_finite());
        }
    }
    let expected_mode = match mode {
        v1::AttitudeMode::Unspecified => None,
        mode => AttitudeMode::ALL.into_iter().find(|candidate| v1::AttitudeMode::from(*candidate) == mode),
    };
    assert_eq!(convert::attitude_mode(request.attitude_mode), Ok(expected_mode), "mode {mode:?}");
    let target_sent = request.target.as_ref().and_then(|target| match target.target.as_ref()? {
        v1::attitude_target::Target::BodyName(name) => Some(TargetJson::Body(name.clone())),
        v1::attitude_target::Target::ShipId(id) => Some(TargetJson::Ship(id.clone())),
    });
    assert_eq!(target_sent, target, "the target changed on the way to the players service");
}

fn check_failure(failure: ParseFailure, value: Option<&Value>, kind: Option<&str>) {
    match &failure {
        ParseFailure::Malformed => {
            assert!(kind.is_none(), "a message with type {kind:?} was called malformed");
        }
        ParseFailure::UnknownType(named) => {
            let kind = kind.expect("an unknown type without a type");
            assert!(!["auth", "control", "attitude_mode", "respawn"].contains(&kind), "known type {kind:?} refused");
            assert!(named.chars().count() <= MAX_QUOTED_CHARS, "unknown type named in full: {named:?}");
            assert!(kind.starts_with(named.as_str()), "unknown type {kind:?} named as {named:?}");
            assert!(
                named.chars().count() == MAX_QUOTED_CHARS || named == kind,
                "unknown type {kind:?} cut to {named:?}"
            );
        }
        ParseFailure::BadCommand { id, command, .. } => {
            assert_eq!(kind, Some(*command), "a {kind:?} message refused as a bad {command}");
            check_id(id.as_ref(), value.expect("a bad command in text that is not JSON"));
        }
    }
    let expected = match &failure {
        ParseFailure::Malformed => Expected::Error("malformed_message"),
        ParseFailure::UnknownType(_) => Expected::Error("unknown_type"),
        ParseFailure::BadCommand { id, command, .. } => Expected::Rejected(id.clone(), command),
    };
    let reply = failure_reply(failure);
    match expected {
        Expected::Error(code) => {
            let reply = reply_object(&reply);
            assert_eq!(reply.get("type"), Some(&json!("error")), "{reply:?}");
            assert_eq!(reply.get("code"), Some(&json!(code)), "{reply:?}");
            assert!(reply.get("message").is_some_and(Value::is_string), "{reply:?}");
        }
        Expected::Rejected(id, command) => check_rejected(&reply, id.as_ref(), command, "malformed_message"),
    }
}

enum Expected {
    Error(&'static str),
    Rejected(Option<Value>, &'static str),
}

/// A reply as the client gets it: one JSON object.
fn reply_object(reply: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(reply) {
        Ok(Value::Object(object)) => object,
        other => panic!("the reply {reply:?} is not a JSON object: {other:?}"),
    }
}

fn check_rejected(reply: &str, id: Option<&Value>, command: &str, code: &str) {
    let reply = reply_object(reply);
    assert_eq!(reply.get("type"), Some(&json!("rejected")), "{reply:?}");
    assert!(same_value(reply.get("id").filter(|id| !id.is_null()), id), "id {id:?} echoed as {reply:?}");
    assert_eq!(reply.get("command"), Some(&json!(command)), "{reply:?}");
    assert_eq!(reply.get("code"), Some(&json!(code)), "{reply:?}");
    assert!(reply.get("reason").is_some_and(Value::is_string), "{reply:?}");
}

/// A command as docs/protocol.md writes it.
fn write_command(id: Option<&Value>, command: &Command) -> String {
    let mut message = Map::new();
    message.insert("type".into(), json!(command.name()));
    if let Some(id) = id {
        message.insert("id".into(), id.clone());
    }
    match command {
        Command::Control(control) => {
            message.insert("throttle".into(), json!(control.throttle));
            message.insert("pitch".into(), json!(control.pitch));
            message.insert("yaw".into(), json!(control.yaw));
            message.insert("roll".into(), json!(control.roll));
        }
        Command::AttitudeMode { mode, target } => {
            message.insert("mode".into(), json!(mode));
            if let Some(target) = target {
                message.insert("target".into(), serde_json::to_value(target).expect("a target is JSON"));
            }
        }
        Command::Respawn { class } => {
            message.insert("class".into(), json!(class));
        }
    }
    Value::Object(message).to_string()
}

fn same_command(a: &Command, b: &Command) -> bool {
    match (a, b) {
        (Command::Control(a), Command::Control(b)) => {
            [(a.throttle, b.throttle), (a.pitch, b.pitch), (a.yaw, b.yaw), (a.roll, b.roll)]
                .into_iter()
                .all(|(a, b)| same_number(a, b))
        }
        _ => a == b,
    }
}

fn same_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Number(a)), Some(Value::Number(b))) if a.is_f64() && b.is_f64() => {
            same_number(a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN))
        }
        _ => a == b,
    }
}

/// Equal, or within [`MAX_REREAD_ULPS`] of each other with the same sign.
fn same_number(a: f64, b: f64) -> bool {
    a == b
        || (a.is_finite()
            && b.is_finite()
            && a.is_sign_negative() == b.is_sign_negative()
            && a.to_bits().abs_diff(b.to_bits()) <= MAX_REREAD_ULPS)
}
