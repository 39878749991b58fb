import ChannelConfig
import Ledger
import MSP
import Wire

/// The human part of an error from a sibling module (its message without the type and code), for status infos and
/// log lines.
func reason(_ error: any Error) -> String {
    switch error {
    case let error as WireError: error.message
    case let error as ChannelConfigError: error.message
    case let error as MSPError: error.message
    case let error as LedgerError: error.message
    case let error as DevOrdererError: error.message
    default: "\(error)"
    }
}
