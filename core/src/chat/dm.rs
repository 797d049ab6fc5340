//! Direct chats and invites: finding or creating the DM with a user (encrypted from its
//! creation event), and answering the invites others sent.

use matrix_sdk::{
    Room, RoomState,
    ruma::{OwnedUserId, UserId},
};

use crate::{Error, Kontor, Result, parse_user_id};

impl Kontor {
    /// Finds the joined direct chat with `user`, if there is one.
    ///
    /// A room counts when the SDK marks it as a DM with exactly this user, or when it has
    /// exactly two members, us and them (an invite accepted from a client that did not set
    /// `is_direct`).
    pub async fn find_dm(&self, user: &str) -> Result<Option<String>> {
        let user = parse_user_id(user)?;
        Ok(self
            .find_dm_room(&user)
            .await
            .map(|r| r.room_id().to_string()))
    }

    async fn find_dm_room(&self, user: &UserId) -> Option<Room> {
        if let Some(r) = self.client.get_dm_room(user) {
            return Some(r);
        }
        for room in self.client.joined_rooms() {
            if room.active_members_count() + room.invited_members_count() == 2
                && let Ok(Some(_)) = room.get_member_no_sync(user).await
            {
                return Some(room);
            }
        }
        None
    }

    /// Returns the direct chat with `user`, creating it if needed.
    ///
    /// A new room is encrypted from its creation event (the `m.room.encryption` state is
    /// part of the `createRoom` request), so no message can ever be sent into it in clear.
    pub async fn open_dm(&self, user: &str) -> Result<String> {
        let user: OwnedUserId = parse_user_id(user)?;
        if let Some(room) = self.find_dm_room(&user).await {
            return Ok(room.room_id().to_string());
        }
        let room = self.client.create_dm(&user).await?;
        Ok(room.room_id().to_string())
    }

    /// Pending invites: (room id, inviter).
    pub async fn invites(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut out = Vec::new();
        for room in self.client.invited_rooms() {
            if crate::business::is_business_room(&room) {
                continue; // never a chat; ours is never an invite
            }
            let inviter = match room.invite_details().await {
                Ok(d) => d.inviter.map(|m| m.user_id().to_string()),
                Err(_) => None,
            };
            out.push((room.room_id().to_string(), inviter));
        }
        Ok(out)
    }

    /// Accepts an invite. A direct-chat invite is recorded as a DM with the inviter.
    pub async fn accept_invite(&self, room_id: &str) -> Result<()> {
        let room = self.invited_room(room_id)?;
        let details = room.invite_details().await.ok();
        room.join().await?;
        if let Some(inviter) = details
            .and_then(|d| d.inviter)
            .map(|m| m.user_id().to_owned())
            && room.is_direct().await.unwrap_or(false)
        {
            let _ = self
                .client
                .account()
                .mark_as_dm(room.room_id(), &[inviter])
                .await;
        }
        Ok(())
    }

    /// Declines an invite.
    pub async fn decline_invite(&self, room_id: &str) -> Result<()> {
        self.invited_room(room_id)?.leave().await?;
        Ok(())
    }

    fn invited_room(&self, room_id: &str) -> Result<Room> {
        let id = matrix_sdk::ruma::RoomId::parse(room_id)
            .map_err(|_| Error::NoInvite(room_id.into()))?;
        self.client
            .get_room(&id)
            .filter(|r| r.state() == RoomState::Invited)
            .ok_or_else(|| Error::NoInvite(room_id.into()))
    }
}
