import Foundation
import Wire

extension X509MSPCore {
    /// Checks `identity` against `principal` with the rules of the MSP version (pre-v1.3, v1.3, v1.4.2+); outcomes
    /// are cached by (identity id, principal).
    func satisfiesPrincipal(_ identity: X509Identity, _ principal: Common_MSPPrincipal) throws(MSPError) {
        let key = PrincipalKey(
            identityID: identity.id,
            classification: principal.principalClassification.rawValue,
            principal: principal.principal
        )
        if let outcome = self.principalOutcomes.value(for: key) {
            if let outcome { throw outcome }
            return
        }
        do {
            try self.satisfiesPrincipalForVersion(identity, principal)
            self.principalOutcomes.insert(nil, for: key)
        } catch {
            self.principalOutcomes.insert(error, for: key)
            throw error
        }
    }

    private func satisfiesPrincipalForVersion(
        _ identity: X509Identity,
        _ principal: Common_MSPPrincipal
    ) throws(MSPError) {
        switch self.version {
        case .v1_0, .v1_1: try self.satisfiesPrincipalPreV13(identity, principal)
        case .v1_3: try self.satisfiesPrincipalV13(identity, principal)
        case .v1_4_3, .v3_0: try self.satisfiesPrincipalV142(identity, principal)
        }
    }

    private func decodeRole(
        _ principal: Common_MSPPrincipal,
        _ identity: X509Identity
    ) throws(MSPError) -> Common_MSPRole {
        let role: Common_MSPRole
        do {
            role = try Common_MSPRole(decoding: principal.principal, field: "MSPPrincipal.principal")
        } catch {
            throw self.error(
                .badPrincipal,
                identity.certificate,
                "could not unmarshal MSPRole from principal",
                cause: error
            )
        }
        guard role.mspIdentifier == self.name else {
            throw self.error(
                .principalNotSatisfied,
                identity.certificate,
                "the identity is a member of a different MSP (expected \(role.mspIdentifier), got \(identity.mspID))"
            )
        }
        return role
    }

    private func validate(_ identity: X509Identity, for what: String) throws(MSPError) {
        do {
            try self.validate(identity)
        } catch {
            var wrapped = error
            wrapped.message = "\(error.message) (the identity is not valid under this MSP, needed for \(what))"
            throw wrapped
        }
    }

    private func isAdmin(_ identity: X509Identity) -> Bool { self.admins.contains(identity.sanitizedDER) }

    /// v1.4.2+: with NodeOUs enforced, ADMIN is an explicit admin or a valid identity with the admin OU, and
    /// ORDERER a valid identity with the orderer OU; everything else as v1.3.
    private func satisfiesPrincipalV142(_ identity: X509Identity, _ principal: Common_MSPPrincipal) throws(MSPError) {
        if principal.principalClassification == .role && self.ouEnforcement {
            let role = try self.decodeRole(principal, identity)
            switch role.role {
            case .admin:
                if self.isAdmin(identity) { return }
                try self.validate(identity, for: "ADMIN")
                try self.hasOURole(identity, .admin)
                return
            case .orderer:
                try self.validate(identity, for: "ORDERER")
                try self.hasOURole(identity, .orderer)
                return
            default:
                break
            }
        }
        try self.satisfiesPrincipalV13(identity, principal)
    }

    /// v1.3: adds COMBINED (all must hold) and ANONYMITY (NOMINAL only) to the pre-v1.3 rules.
    private func satisfiesPrincipalV13(_ identity: X509Identity, _ principal: Common_MSPPrincipal) throws(MSPError) {
        switch principal.principalClassification {
        case .combined:
            let combined: Common_CombinedPrincipal
            do {
                combined = try Common_CombinedPrincipal(decoding: principal.principal, field: "MSPPrincipal.principal")
            } catch {
                throw self.error(
                    .badPrincipal,
                    identity.certificate,
                    "could not unmarshal CombinedPrincipal",
                    cause: error
                )
            }
            guard !combined.principals.isEmpty else {
                throw self.error(.badPrincipal, identity.certificate, "no principals in CombinedPrincipal")
            }
            for inner in combined.principals { try self.satisfiesPrincipalForVersion(identity, inner) }
        case .anonymity:
            let anonymity: Common_MSPIdentityAnonymity
            do {
                anonymity = try Common_MSPIdentityAnonymity(
                    decoding: principal.principal,
                    field: "MSPPrincipal.principal"
                )
            } catch {
                throw self.error(
                    .badPrincipal,
                    identity.certificate,
                    "could not unmarshal MSPIdentityAnonymity",
                    cause: error
                )
            }
            switch anonymity.anonymityType {
            case .nominal: return
            case .anonymous:
                throw self.error(
                    .principalNotSatisfied,
                    identity.certificate,
                    "principal is anonymous, but X.509 MSP does not support anonymous identities"
                )
            default:
                throw self.error(
                    .badPrincipal,
                    identity.certificate,
                    "unknown principal anonymity type \(anonymity.anonymityType.rawValue)"
                )
            }
        default:
            try self.satisfiesPrincipalPreV13(identity, principal)
        }
    }

    /// v1.0/v1.1: ROLE (MEMBER, ADMIN by admin list, CLIENT/PEER by NodeOU), IDENTITY, ORGANIZATION_UNIT.
    private func satisfiesPrincipalPreV13(_ identity: X509Identity, _ principal: Common_MSPPrincipal) throws(MSPError) {
        switch principal.principalClassification {
        case .role:
            let role = try self.decodeRole(principal, identity)
            switch role.role {
            case .member:
                try self.validate(identity)
            case .admin:
                guard self.isAdmin(identity) else {
                    throw self.error(.principalNotSatisfied, identity.certificate, "this identity is not an admin")
                }
            case .client, .peer:
                try self.validate(identity, for: "\(role.role)")
                try self.hasOURole(identity, role.role)
            default:
                throw self.error(.badPrincipal, identity.certificate, "invalid MSP role type \(role.role.rawValue)")
            }
        case .identity:
            let other: X509Identity
            do {
                other = try self.deserialize(principal.principal)
            } catch {
                throw self.error(
                    .principalNotSatisfied,
                    identity.certificate,
                    "invalid identity principal, not a certificate: \(error.message)",
                    cause: error
                )
            }
            guard other.sanitizedDER == identity.sanitizedDER else {
                throw self.error(.principalNotSatisfied, identity.certificate, "the identities do not match")
            }
            try self.validate(other)
        case .organizationUnit:
            let unit: Common_OrganizationUnit
            do {
                unit = try Common_OrganizationUnit(decoding: principal.principal, field: "MSPPrincipal.principal")
            } catch {
                throw self.error(
                    .badPrincipal,
                    identity.certificate,
                    "could not unmarshal OrganizationUnit",
                    cause: error
                )
            }
            guard unit.mspIdentifier == self.name else {
                throw self.error(
                    .principalNotSatisfied,
                    identity.certificate,
                    "the identity is a member of a different MSP (expected \(unit.mspIdentifier), got \(identity.mspID))"
                )
            }
            try self.validate(identity)
            let matches = identity.organizationalUnits.contains {
                $0.name == unit.organizationalUnitIdentifier && $0.certifiersIdentifier == unit.certifiersIdentifier
            }
            guard matches else {
                throw self.error(
                    .principalNotSatisfied,
                    identity.certificate,
                    "the identity has no OU \(unit.organizationalUnitIdentifier) with the required certifiers identifier"
                )
            }
        default:
            throw self.error(
                .badPrincipal,
                identity.certificate,
                "invalid principal type \(principal.principalClassification.rawValue) for MSP version \(self.version)"
            )
        }
    }
}
