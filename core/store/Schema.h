#pragma once
// The run database's numbered migrations (see docs/schema.md).

namespace edgent::core::store {

// SQL that brings the schema from `fromVersion` to fromVersion + 1 (0 <= fromVersion < kSchemaVersion).
const char* migrationSql(int fromVersion);

}  // namespace edgent::core::store
