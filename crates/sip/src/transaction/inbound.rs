//! Received messages: matching responses to client transactions and requests to server
//! transactions (RFC 3261 §17.1.3, §17.2.3, RFC 2543 fallback), ACK for an Accepted INVITE,
//! CANCEL, merged-request detection (482) and the transaction limit. It only routes into the
//! state machines and the layer's tables; timers and bookkeeping stay in `mod.rs`.

use super::*;

impl TransactionLayer {
    // ---- input -------------------------------------------------------------------------

    /// A message received from `from`. Returns an error (and drops the message) when it lacks
    /// what transaction matching needs.
    pub fn handle_message(
        &mut self,
        now: Instant,
        msg: Message,
        from: Peer,
    ) -> Result<(), TxnError> {
        if !msg.has_via() {
            return Err(TxnError::Missing("Via"));
        }
        if msg.cseq().is_none() {
            return Err(TxnError::Missing("CSeq"));
        }
        if msg.is_response() {
            self.on_response(now, msg, from)
        } else {
            self.on_request(now, msg, from)
        }
    }

    pub(super) fn on_response(
        &mut self,
        now: Instant,
        resp: Message,
        from: Peer,
    ) -> Result<(), TxnError> {
        let key = ClientKey::of(&resp);
        let found = key.ok().and_then(|k| self.clients.get(&k).copied());
        let Some(id) = found else {
            self.out.push_back(Output::Event(TuEvent::StrayResponse {
                response: resp,
                from,
            }));
            return Ok(());
        };
        if let Some(entry) = self.txns.get_mut(&id) {
            match &mut entry.machine {
                Machine::InviteClient(m) => m.on_response(now, resp, &mut self.steps),
                Machine::NonInviteClient(m) => m.on_response(now, resp, &mut self.steps),
                _ => {}
            }
        }
        self.apply(now, id, Some(from));
        Ok(())
    }

    pub(super) fn on_request(
        &mut self,
        now: Instant,
        req: Message,
        from: Peer,
    ) -> Result<(), TxnError> {
        if !req.has_from() {
            return Err(TxnError::Missing("From"));
        }
        if !req.has_to() {
            return Err(TxnError::Missing("To"));
        }
        if req.call_id().is_none() {
            return Err(TxnError::Missing("Call-ID"));
        }
        let method = req.method().ok_or(TxnError::NotARequest)?.clone();
        let key = ServerKey::of(&req)?;
        if let Some(id) = self.find_server(&key, &req) {
            if let Some(entry) = self.txns.get_mut(&id) {
                match &mut entry.machine {
                    Machine::InviteServer(m) if method == Method::Ack => {
                        m.on_ack(now, req, &mut self.steps)
                    }
                    Machine::InviteServer(m) => m.on_request(&mut self.steps),
                    Machine::NonInviteServer(m) if method != Method::Ack => {
                        m.on_request(&mut self.steps)
                    }
                    _ => {}
                }
            }
            self.apply(now, id, Some(from));
            return Ok(());
        }
        match method {
            Method::Ack => {
                match self.accepted_invite_for(&req) {
                    Some(id) => {
                        self.steps.push(Step::Ack(req));
                        self.apply(now, id, Some(from));
                    }
                    None => self
                        .out
                        .push_back(Output::Event(TuEvent::StrayAck { ack: req, from })),
                }
                Ok(())
            }
            Method::Cancel => {
                self.on_cancel(now, req, key, from);
                Ok(())
            }
            _ => {
                if self.len() >= self.config.max_transactions {
                    self.reject_stateless(&req, from);
                    return Ok(());
                }
                let merge = MergeKey::of(&req)?;
                if req.to_tag().is_none() && self.merges.contains_key(&merge) {
                    // §8.2.2.2: the same request over another path.
                    self.answer_internally(now, req, key, from, 482);
                    return Ok(());
                }
                let id = self.alloc_id();
                self.insert_server(now, id, req.clone(), key, Some(merge), from, false);
                self.out.push_back(Output::Event(TuEvent::Request {
                    txn: id,
                    request: req,
                    from,
                }));
                Ok(())
            }
        }
    }

    /// The server transaction `key` names, with the To tag check of the RFC 2543 rules.
    pub(super) fn find_server(&self, key: &ServerKey, req: &Message) -> Option<TxnId> {
        let id = *self.servers.get(key)?;
        if !key.is_rfc2543() {
            return Some(id);
        }
        let entry = self.txns.get(&id)?;
        let wanted = if req.method() == Some(&Method::Ack) {
            // The ACK carries the To tag of the response it acknowledges.
            match &entry.machine {
                Machine::InviteServer(m) => m.response_to_tag(),
                _ => return None,
            }
        } else {
            match &entry.machine {
                Machine::InviteServer(m) => m.request_to_tag(),
                Machine::NonInviteServer(m) => m.request_to_tag(),
                _ => return None,
            }
        };
        (wanted == req.to_tag()).then_some(id)
    }

    /// The INVITE server transaction in Accepted whose 2xx this ACK (with its own branch)
    /// acknowledges: same Call-ID, From tag, CSeq number, and the 2xx's To tag.
    pub(super) fn accepted_invite_for(&self, ack: &Message) -> Option<TxnId> {
        let mut k = MergeKey::of(ack).ok()?;
        k.method = Method::Invite;
        let id = *self.merges.get(&k)?;
        match &self.txns.get(&id)?.machine {
            Machine::InviteServer(m)
                if m.state() == invite_server::State::Accepted
                    && m.response_to_tag() == ack.to_tag() =>
            {
                Some(id)
            }
            _ => None,
        }
    }

    pub(super) fn on_cancel(&mut self, now: Instant, cancel: Message, key: ServerKey, from: Peer) {
        let target = self.find_server(&key.with_method(Method::Invite), &cancel);
        let Some(invite) = target else {
            self.answer_internally(now, cancel, key, from, 481);
            return;
        };
        let (pending, to_tag) = match self.txns.get(&invite).map(|e| &e.machine) {
            Some(Machine::InviteServer(m)) => (
                m.state() == invite_server::State::Proceeding,
                m.response_to_tag().map(str::to_owned),
            ),
            _ => (false, None),
        };
        let id = self.alloc_id();
        self.insert_server(now, id, cancel.clone(), key, None, from, true);
        // §9.2: the 200 carries the To tag of the INVITE's response when there is one.
        let ok = Message::response_to(&cancel, 200, "OK", to_tag.as_deref());
        let _ = self.respond(now, id, ok);
        if pending {
            self.out.push_back(Output::Event(TuEvent::Cancelled {
                invite,
                cancel,
                from,
            }));
        }
    }

    /// A server transaction the layer answers itself with `code` (481 to CANCEL, 482).
    pub(super) fn answer_internally(
        &mut self,
        now: Instant,
        req: Message,
        key: ServerKey,
        from: Peer,
        code: u16,
    ) {
        let resp = Message::response_to(&req, code, Message::default_reason(code), None);
        let id = self.alloc_id();
        self.insert_server(now, id, req, key, None, from, true);
        // A fresh server transaction accepts any first final response.
        let _ = self.respond(now, id, resp);
    }

    /// Over the transaction limit: 503 with Retry-After, no transaction.
    pub(super) fn reject_stateless(&mut self, req: &Message, from: Peer) {
        let mut resp = Message::response_to(req, 503, "Service Unavailable", None);
        if resp
            .push_header(HeaderName::RetryAfter, &self.config.retry_after.to_string())
            .is_err()
        {
            // Retry-After is not a core header; pushing it cannot fail.
        }
        self.out.push_back(Output::Transmit {
            to: from,
            message: resp,
        });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_server(
        &mut self,
        now: Instant,
        id: TxnId,
        req: Message,
        key: ServerKey,
        merge: Option<MergeKey>,
        from: Peer,
        internal: bool,
    ) {
        let reliable = from.is_reliable();
        let timers = Arc::clone(&self.timers);
        let machine = if req.method() == Some(&Method::Invite) {
            Machine::InviteServer(InviteServer::new(now, req, reliable, timers))
        } else {
            Machine::NonInviteServer(NonInviteServer::new(req, reliable, timers))
        };
        let key = Arc::new(key);
        self.servers.insert(Arc::clone(&key), id);
        let merge_key = merge.filter(|m| !self.merges.contains_key(m)).map(Arc::new);
        if let Some(m) = &merge_key {
            self.merges.insert(Arc::clone(m), id);
        }
        let entry = Entry {
            peer: from,
            machine,
            deadline: None,
            client_key: None,
            server_key: Some(key),
            merge_key,
            internal,
            cancel: None,
        };
        self.txns.insert(id, Box::new(entry));
        self.reschedule(id);
    }
}
