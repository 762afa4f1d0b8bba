// CSQLite: the system SQLite 3 (Debian's libsqlite3-dev) seen from Swift, for the records store.
#include <sqlite3.h>
