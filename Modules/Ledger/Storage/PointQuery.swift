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
        let statement = try Statement(db, sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try statement.step() ? read(statement.columns) : nil
    }

    /// A cached statement of the caller's connection, run through the C API: bind, step, reset. Fetching it
    /// once for many rows saves GRDB's look-up of the statement by its SQL text and the argument array per row.
    /// Valid only inside the database access that created it.
    struct Statement {
        private let statement: GRDB.Statement
        private let handle: OpaquePointer
        private let db: Database
        private let sql: String

        init(_ db: Database, _ sql: String) throws {
            self.statement = try db.cachedStatement(sql: sql)
            self.handle = self.statement.sqliteStatement
            self.db = db
            self.sql = sql
        }

        /// Binds `argument` to parameter `index` (from 1), as GRDB binds its values (a Swift string as a C
        /// string, a blob by its bytes), so that look-ups find exactly the rows GRDB's own statements wrote.
        func bind(_ argument: Argument, at index: Int32) throws {
            let code: Int32
            switch argument {
            case .text(let text):
                code = sqlite3_bind_text(self.handle, index, text, -1, PointQuery.transient)
            case .blob(let blob):
                code = blob.withUnsafeBytes { bytes in
                    sqlite3_bind_blob(self.handle, index, bytes.baseAddress, Int32(bytes.count), PointQuery.transient)
                }
            case .int64(let value):
                code = sqlite3_bind_int64(self.handle, index, value)
            case .null:
                code = sqlite3_bind_null(self.handle, index)
            }
            guard code == SQLITE_OK else { throw self.error(code) }
        }

        /// Binds `arguments` to the parameters in order, from 1.
        func bind(_ arguments: [Argument]) throws {
            for (offset, argument) in arguments.enumerated() {
                try self.bind(argument, at: Int32(offset + 1))
            }
        }

        /// Binds `arguments`, steps once and resets: a statement that returns no row.
        func run(_ arguments: [Argument]) throws {
            defer { self.reset() }
            try self.bind(arguments)
            _ = try self.step()
        }

        /// Steps once: true when a row is ready in ``columns``, false when the statement is done.
        func step() throws -> Bool {
            switch sqlite3_step(self.handle) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            case let code: throw self.error(code)
            }
        }

        /// The columns of the current row.
        var columns: Columns { Columns(handle: self.handle) }

        /// Resets the statement and clears its bindings, so that it can run again (here or through GRDB, which
        /// binds its arguments again on every execution).
        func reset() {
            sqlite3_reset(self.handle)
            sqlite3_clear_bindings(self.handle)
        }

        private func error(_ code: Int32) -> DatabaseError {
            DatabaseError(resultCode: ResultCode(rawValue: code), message: self.db.lastErrorMessage, sql: self.sql)
        }
    }

    /// The columns of the current row.
    struct Columns {
        fileprivate let handle: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(self.handle, column) }
    }

    /// SQLite copies the bound bytes (the arguments live only for the call).
    fileprivate static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
