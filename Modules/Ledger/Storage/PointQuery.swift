import Foundation
import GRDB
internal import GRDBSQLite

/// Single-row look-ups and single-row writes run through SQLite's C API on GRDB's cached statements.
///
/// The commit path makes thousands of these per block: every transaction's tx id is looked up and indexed, the
/// version of every key it reads is looked up, every key it writes is stored. For such one-row statements
/// GRDB's `Row`, `StatementArguments` and `DatabaseValue` handling cost about as much as SQLite's own work.
/// Here the statement is still GRDB's: it is prepared once per connection and runs inside the caller's GRDB
/// transaction. Only the binding, the step and the column reads are done directly.
///
/// Each call leaves the statement reset with its bindings cleared, so GRDB may use it afterwards (GRDB binds its
/// arguments again on every execution).
enum PointQuery {
    /// One bound argument.
    enum Argument {
        case text(String)
        case blob(Data)
        case int64(Int64)
        case null

        /// A blob, or NULL when `data` is nil.
        static func blob(orNull data: Data?) -> Self { data.map { .blob($0) } ?? .null }
    }

    /// Runs the writing statement `sql` with `arguments` (no row is read).
    static func execute(_ db: Database, _ sql: String, _ arguments: [Argument]) throws {
        _ = try self.first(db, sql, arguments) { _ in () }
    }

    /// Runs `sql` with `arguments` and reads the first row with `read`; nil when there is no row.
    static func first<Value>(
        _ db: Database,
        _ sql: String,
        _ arguments: [Argument],
        read: (Columns) -> Value
    ) throws -> Value? {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch argument {
            // Bound as GRDB binds them (a Swift string as a C string, a blob by its bytes), so a look-up finds
            // exactly the rows GRDB's own statements wrote and found.
            case .text(let text):
                code = sqlite3_bind_text(handle, index, text, -1, Self.transient)
            case .blob(let blob):
                code = blob.withUnsafeBytes { bytes in
                    sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
                }
            case .int64(let value):
                code = sqlite3_bind_int64(handle, index, value)
            case .null:
                code = sqlite3_bind_null(handle, index)
            }
            guard code == SQLITE_OK else { throw Self.error(db, code, sql) }
        }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return read(Columns(handle: handle))
        case SQLITE_DONE: return nil
        case let code: throw Self.error(db, code, sql)
        }
    }

    /// The columns of the current row.
    struct Columns {
        fileprivate let handle: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(self.handle, column) }
    }

    private static func error(_ db: Database, _ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
    }

    /// SQLite copies the bound bytes (the arguments live only for the call).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
