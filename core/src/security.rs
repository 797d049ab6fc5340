//! Device and user verification (SAS emoji) and key backup with a recovery key.
//!
//! Both are matrix-sdk features; this module only gives them a small, stable shape:
//! a [`Verification`] that yields the seven emojis to compare and is then confirmed or
//! rejected, and `enable_recovery` / `recover` for the backup.
//!
//! Incoming requests are answered by their flow id ([`Kontor::incoming_verification`],
//! [`Kontor::accept_verification_flow`], [`Kontor::decline_verification`]): a prompt
//! that names one device must accept exactly that device's request, not whichever
//! request happens to be newest.

use std::time::Duration;

use futures_util::StreamExt;
use matrix_sdk::{
    encryption::verification::{
        SasState, SasVerification, Verification as SdkVerification, VerificationRequest,
        VerificationRequestState,
    },
    ruma::{DeviceId, UserId},
};
use serde::Serialize;

use crate::{CoreEvent, Error, Kontor, Result, parse_user_id};

/// One of the seven emojis both sides compare.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SasEmoji {
    /// The emoji, e.g. "🐶".
    pub symbol: String,
    /// Its English name from the Matrix spec, e.g. "Dog" (the app translates it).
    pub description: String,
}

/// One device of our own account, as the settings screen lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device id, e.g. "ABCDEFGHIJ".
    pub id: String,
    /// The name the device gave itself, if any.
    pub name: Option<String>,
    /// Verified from this device's point of view (SAS done, or cross-signed).
    pub verified: bool,
    /// This very device.
    pub current: bool,
}

/// A verification request that another device or user sent us and that still waits for
/// our answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IncomingVerification {
    /// Who asks (our own id for one of our other devices).
    pub user_id: String,
    /// The id of the flow, to accept or decline exactly this request.
    pub flow_id: String,
    /// The device that asks.
    pub device_id: String,
    /// The name that device gave itself, if any.
    pub device_name: Option<String>,
    /// The request comes from one of our own devices.
    pub own: bool,
}

/// A running SAS verification with another device or user.
#[derive(Debug)]
pub struct Verification {
    sas: SasVerification,
}

impl Verification {
    /// The user on the other side.
    pub fn other_user(&self) -> String {
        self.sas.other_user_id().to_string()
    }

    /// The other device.
    pub fn other_device(&self) -> String {
        self.sas.other_device().device_id().to_string()
    }

    /// Waits until both sides have exchanged keys and returns the emojis to compare.
    pub async fn emojis(&self, timeout: Duration) -> Result<Vec<SasEmoji>> {
        let mut changes = self.sas.changes();
        let wait = async {
            loop {
                if let Some(emoji) = self.sas.emoji() {
                    return Ok(emoji
                        .iter()
                        .map(|e| SasEmoji {
                            symbol: e.symbol.into(),
                            description: e.description.into(),
                        })
                        .collect());
                }
                if let Some(info) = self.sas.cancel_info() {
                    return Err(Error::Verification(info.reason().to_owned()));
                }
                match changes.next().await {
                    Some(SasState::Cancelled(info)) => {
                        return Err(Error::Verification(info.reason().to_owned()));
                    }
                    Some(_) => {}
                    None => return Err(Error::Verification("verification ended".into())),
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| Error::Verification("timed out waiting for the other side".into()))?
    }

    /// The user says the emojis match: confirm, and wait for the other side to do the same.
    pub async fn confirm(&self, timeout: Duration) -> Result<()> {
        self.sas.confirm().await?;
        let mut changes = self.sas.changes();
        let wait = async {
            loop {
                if self.sas.is_done() {
                    return Ok(());
                }
                if let Some(info) = self.sas.cancel_info() {
                    return Err(Error::Verification(info.reason().to_owned()));
                }
                match changes.next().await {
                    Some(SasState::Done { .. }) => return Ok(()),
                    Some(SasState::Cancelled(info)) => {
                        return Err(Error::Verification(info.reason().to_owned()));
                    }
                    Some(_) => {}
                    None => {
                        return if self.sas.is_done() {
                            Ok(())
                        } else {
                            Err(Error::Verification("verification ended".into()))
                        };
                    }
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| {
            Error::Verification("timed out waiting for the other side to confirm".into())
        })?
    }

    /// The emojis differ: cancel with a mismatch (someone may be in the middle).
    pub async fn mismatch(&self) -> Result<()> {
        self.sas.mismatch().await?;
        Ok(())
    }
}

impl Kontor {
    /// Asks to verify another device (`device` given; our own user for our other devices)
    /// or another user (no device: in-room verification in our DM with them). Waits until
    /// the other side accepts, then starts the emoji comparison.
    pub async fn request_verification(
        &self,
        user: &str,
        device: Option<&str>,
        timeout: Duration,
    ) -> Result<Verification> {
        let user_id = parse_user_id(user)?;
        let enc = self.client.encryption();
        // Make sure we know their current devices and identity.
        let _ = self.sync_once().await;
        let request = match device {
            Some(d) => {
                let device = enc
                    .get_device(&user_id, <&DeviceId>::from(d))
                    .await
                    .map_err(|e| Error::Verification(e.to_string()))?
                    .ok_or_else(|| Error::Verification(format!("unknown device {d} of {user}")))?;
                device.request_verification().await?
            }
            None => {
                let identity = enc
                    .request_user_identity(&user_id)
                    .await
                    .map_err(|e| Error::Verification(e.to_string()))?
                    .ok_or_else(|| {
                        Error::Verification(format!("{user} has no cross-signing identity"))
                    })?;
                identity
                    .request_verification()
                    .await
                    .map_err(|e| Error::Verification(e.to_string()))?
            }
        };
        let fut = async {
            follow(&request, |state| {
                matches!(state, VerificationRequestState::Ready { .. }).then_some(())
            })
            .await?;
            let sas = request.start_sas().await?.ok_or_else(|| {
                Error::Verification("the other side does not support emoji".into())
            })?;
            Ok(Verification { sas })
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| Error::Verification("timed out waiting for the other side".into()))?
    }

    /// Waits for an incoming verification request (from `from`, or anyone), accepts it and
    /// the emoji comparison the other side starts.
    pub async fn accept_verification(
        &self,
        from: Option<&str>,
        timeout: Duration,
    ) -> Result<Verification> {
        let from = from.map(parse_user_id).transpose()?;
        let mut events = self.subscribe();
        let fut = async {
            // A request that reached us before we listened (the user ran `verify accept`
            // after the other side asked) is still valid: take the newest pending one.
            let earlier = self
                .verification_inbox
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let mut found = None;
            for (user_id, flow_id) in earlier.iter().rev() {
                if from.as_ref().is_some_and(|f| f.as_str() != user_id) {
                    continue;
                }
                let uid = parse_user_id(user_id)?;
                if let Some(r) = self
                    .client
                    .encryption()
                    .get_verification_request(&uid, flow_id)
                    .await
                    && matches!(r.state(), VerificationRequestState::Requested { .. })
                {
                    found = Some(r);
                    break;
                }
            }
            let request: VerificationRequest = if let Some(r) = found {
                r
            } else {
                loop {
                    match events.recv().await {
                        Ok(CoreEvent::VerificationRequest { user_id, flow_id }) => {
                            if from.as_ref().is_some_and(|f| f.as_str() != user_id) {
                                continue;
                            }
                            let uid = parse_user_id(&user_id)?;
                            if let Some(r) = self
                                .client
                                .encryption()
                                .get_verification_request(&uid, &flow_id)
                                .await
                            {
                                break r;
                            }
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return Err(Error::Verification("event stream closed".into())),
                    }
                }
            };
            accept_request(&request).await
        };
        // The background sync delivers the request; start it if the caller has not.
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| Error::Verification("no verification request arrived".into()))?
    }

    /// The request `flow_id` from `user`, if it still waits for our answer (not yet
    /// accepted, declined, cancelled or timed out), with the device that sent it.
    pub async fn incoming_verification(
        &self,
        user: &str,
        flow_id: &str,
    ) -> Result<Option<IncomingVerification>> {
        let Some(request) = self.find_request(user, flow_id).await? else {
            return Ok(None);
        };
        let VerificationRequestState::Requested {
            other_device_data, ..
        } = request.state()
        else {
            return Ok(None);
        };
        Ok(Some(IncomingVerification {
            user_id: request.other_user_id().to_string(),
            flow_id: flow_id.to_owned(),
            device_id: other_device_data.device_id().to_string(),
            device_name: other_device_data.display_name().map(str::to_owned),
            own: request.is_self_verification(),
        }))
    }

    /// Accepts exactly the request `flow_id` from `user` and the emoji comparison the
    /// other side then starts.
    pub async fn accept_verification_flow(
        &self,
        user: &str,
        flow_id: &str,
        timeout: Duration,
    ) -> Result<Verification> {
        let request = self.waiting_request(user, flow_id).await?;
        tokio::time::timeout(timeout, accept_request(&request))
            .await
            .map_err(|_| Error::Verification("timed out waiting for the other side".into()))?
    }

    /// Declines the request `flow_id` from `user`: the other side receives a
    /// cancellation (`m.user`) and stops waiting.
    pub async fn decline_verification(&self, user: &str, flow_id: &str) -> Result<()> {
        let request = self.waiting_request(user, flow_id).await?;
        request.cancel().await?;
        Ok(())
    }

    /// Returns once the request `flow_id` from `user` no longer waits for our answer:
    /// accepted (here or on another of our devices), declined, cancelled by the sender
    /// or expired. A prompt for it is then out of date.
    pub async fn verification_request_settled(&self, user: &str, flow_id: &str) {
        let Ok(Some(request)) = self.find_request(user, flow_id).await else {
            return;
        };
        let mut changes = request.changes();
        while matches!(
            request.state(),
            VerificationRequestState::Created { .. } | VerificationRequestState::Requested { .. }
        ) {
            if changes.next().await.is_none() {
                return;
            }
        }
    }

    /// The request `flow_id` with `user` that the crypto store knows, in any state.
    async fn find_request(&self, user: &str, flow_id: &str) -> Result<Option<VerificationRequest>> {
        let uid = parse_user_id(user)?;
        Ok(self
            .client
            .encryption()
            .get_verification_request(&uid, flow_id)
            .await)
    }

    /// The request `flow_id` from `user`, if it still waits for an answer.
    async fn waiting_request(&self, user: &str, flow_id: &str) -> Result<VerificationRequest> {
        let request = self
            .find_request(user, flow_id)
            .await?
            .ok_or_else(|| Error::Verification(format!("no verification request {flow_id}")))?;
        if !matches!(request.state(), VerificationRequestState::Requested { .. }) {
            return Err(Error::Verification(
                "the request was already answered, cancelled or has expired".into(),
            ));
        }
        Ok(request)
    }

    /// Every device of our own account that the crypto store knows, this one first, so
    /// the user can pick the other phone or laptop to verify.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>> {
        let Some(me) = self.client.user_id().map(ToOwned::to_owned) else {
            return Ok(Vec::new());
        };
        let current = self.device_id();
        let devices = self
            .client
            .encryption()
            .get_user_devices(&me)
            .await
            .map_err(|e| Error::Verification(e.to_string()))?;
        let mut out: Vec<DeviceInfo> = devices
            .devices()
            .map(|d| DeviceInfo {
                id: d.device_id().to_string(),
                name: d.display_name().map(str::to_owned),
                verified: d.is_verified(),
                current: d.device_id().as_str() == current,
            })
            .collect();
        out.sort_by(|a, b| b.current.cmp(&a.current).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Whether the given device (of any user) is verified from our point of view.
    pub async fn is_device_verified(&self, user: &str, device: &str) -> Result<bool> {
        let user_id: &UserId = &parse_user_id(user)?;
        Ok(self
            .client
            .encryption()
            .get_device(user_id, <&DeviceId>::from(device))
            .await
            .map_err(|e| Error::Verification(e.to_string()))?
            .is_some_and(|d| d.is_verified()))
    }

    /// Sets up secret storage and key backup, and returns the recovery key. The user keeps
    /// it somewhere safe: with it, a new device restores every room key in the backup.
    pub async fn enable_recovery(&self) -> Result<String> {
        let recovery = self.client.encryption().recovery();
        let key = recovery
            .enable()
            .wait_for_backups_to_upload()
            .await
            .map_err(|e| Error::Recovery(e.to_string()))?;
        Ok(key)
    }

    /// Unlocks secret storage with a recovery key and downloads the backed-up room keys of
    /// every joined room, so old history decrypts on this (new) device.
    pub async fn recover(&self, recovery_key: &str) -> Result<()> {
        let enc = self.client.encryption();
        enc.recovery()
            .recover(recovery_key.trim())
            .await
            .map_err(|e| Error::Recovery(e.to_string()))?;
        for room in self.client.joined_rooms() {
            enc.backups()
                .download_room_keys_for_room(room.room_id())
                .await
                .map_err(|e| Error::Recovery(e.to_string()))?;
        }
        Ok(())
    }

    /// Uploads any room keys not yet in the backup (call before a device goes away).
    pub async fn wait_for_backup(&self) -> Result<()> {
        let backups = self.client.encryption().backups();
        if backups.are_enabled().await {
            backups
                .wait_for_steady_state()
                .await
                .map_err(|e| Error::Recovery(e.to_string()))?;
        }
        Ok(())
    }
}

/// Accepts a request we received and waits for the other side to start the emoji
/// comparison, which is accepted too.
async fn accept_request(request: &VerificationRequest) -> Result<Verification> {
    request.accept().await?;
    let sas = follow(request, |state| match state {
        VerificationRequestState::Transitioned {
            verification: SdkVerification::SasV1(sas),
            ..
        } => Some(sas),
        _ => None,
    })
    .await?;
    sas.accept().await?;
    Ok(Verification { sas })
}

/// Follows `request` until `pick` takes one of its states; a request that is cancelled or
/// ends first is an error (the cancellation's reason, e.g. "The user cancelled the
/// verification.", is what the other side's answer means to the user).
async fn follow<T>(
    request: &VerificationRequest,
    mut pick: impl FnMut(VerificationRequestState) -> Option<T>,
) -> Result<T> {
    let mut changes = request.changes();
    loop {
        match request.state() {
            VerificationRequestState::Cancelled(info) => {
                return Err(Error::Verification(info.reason().to_owned()));
            }
            VerificationRequestState::Done => {
                return Err(Error::Verification("request ended".into()));
            }
            state => {
                if let Some(t) = pick(state) {
                    return Ok(t);
                }
            }
        }
        if changes.next().await.is_none() {
            return Err(Error::Verification("request ended".into()));
        }
    }
}
