//! One task per CTI client: WebSocket frames in, to the driver; the driver's frames out. It
//! decides nothing about the protocol.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use tokio::sync::{mpsc, oneshot};

use super::{FromClient, ToClient, CLIENT_QUEUE, MAX_FRAME};
use crate::api::error::ApiError;
use crate::api::AppState;

/// Path of the CTI WebSocket.
pub const PATH: &str = "/cti";

/// `GET /cti`: upgrades to a WebSocket served by [`serve`]. Authentication is the first
/// message on the socket (`Authenticate`), so browser clients can use it too.
pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let Some(cti) = state.cti.clone() else {
        return axum::response::IntoResponse::into_response(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "CTI_UNAVAILABLE",
            "the call engine is not running, so CTI is not served",
        ));
    };
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| serve(socket, cti.to_driver))
}

async fn serve(mut socket: WebSocket, driver: mpsc::Sender<FromClient>) {
    let (out_tx, mut out_rx) = mpsc::channel(CLIENT_QUEUE);
    let (reply_tx, reply_rx) = oneshot::channel();
    let open = FromClient::Open {
        outbound: out_tx,
        reply: reply_tx,
    };
    if driver.send(open).await.is_err() {
        return;
    }
    let Ok(session) = reply_rx.await else {
        return;
    };
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let msg = match frame {
                    Some(Ok(Message::Text(t))) => FromClient::Text { session, text: t.to_string() },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => FromClient::Activity { session },
                };
                if driver.send(msg).await.is_err() {
                    break;
                }
            }
            out = out_rx.recv() => {
                let frame = match out {
                    Some(ToClient::Text(t)) => Message::Text(Utf8Bytes::from(t)),
                    Some(ToClient::Ping) => Message::Ping(Default::default()),
                    Some(ToClient::Close(reason)) => {
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: axum::extract::ws::close_code::POLICY,
                                reason: Utf8Bytes::from(reason),
                            })))
                            .await;
                        break;
                    }
                    // The driver dropped the session (stopping, or the client fell behind).
                    None => break,
                };
                if socket.send(frame).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = driver.send(FromClient::Closed { session }).await;
}
