/* SQLite (the amalgamation from the crates.io libsqlite3-sys package) driven
 * through its C API: a file database with tables, indexes, a transaction of
 * many inserts, joins, aggregates, built-in functions (printf, date,
 * string and math), a rollback, and a reopen that must see the committed
 * data. Prints every result row; the glibc build must print the same.
 * Usage: sqlite_driver DATABASE-PATH */
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"

static int print_row(void *unused, int columns, char **values, char **names) {
    (void)unused;
    (void)names;
    for (int i = 0; i < columns; i++) printf("%s%s", i ? "|" : "", values[i] ? values[i] : "NULL");
    printf("\n");
    return 0;
}

static int run(sqlite3 *database, const char *sql) {
    char *error = NULL;
    printf("> %s\n", sql);
    if (sqlite3_exec(database, sql, print_row, NULL, &error) != SQLITE_OK) {
        printf("error: %s\n", error);
        sqlite3_free(error);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s database\n", argv[0]); return 2; }
    sqlite3 *database;
    if (sqlite3_open(argv[1], &database) != SQLITE_OK) { printf("open failed\n"); return 1; }
    int failures = 0;
    failures += run(database, "PRAGMA journal_mode=WAL");
    failures += run(database, "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, score REAL)");
    failures += run(database, "CREATE TABLE cities(person INTEGER REFERENCES people(id), city TEXT)");
    failures += run(database, "CREATE INDEX people_age ON people(age)");
    sqlite3_stmt *insert;
    sqlite3_prepare_v2(database, "INSERT INTO people(name, age, score) VALUES(?, ?, ?)", -1, &insert, NULL);
    failures += run(database, "BEGIN");
    unsigned state = 1;
    for (int i = 0; i < 20000; i++) {
        char name[32];
        state = state * 1103515245u + 12345u;
        snprintf(name, sizeof name, "person%05d", (int)(state >> 16) % 50000);
        sqlite3_bind_text(insert, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(insert, 2, (int)(state >> 8) % 90);
        sqlite3_bind_double(insert, 3, (state % 100000) / 7.0);
        if (sqlite3_step(insert) != SQLITE_DONE) failures++;
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    failures += run(database, "INSERT INTO cities SELECT id, CASE id % 3 WHEN 0 THEN 'Paris' WHEN 1 THEN 'Lima' ELSE 'Oslo' END FROM people WHERE id % 5 = 0");
    failures += run(database, "COMMIT");
    failures += run(database, "SELECT count(*), min(age), max(age), round(avg(score), 6), sum(age) FROM people");
    failures += run(database, "SELECT age, count(*) FROM people WHERE age BETWEEN 20 AND 25 GROUP BY age ORDER BY age");
    failures += run(database, "SELECT c.city, count(*), printf('%.3f', avg(p.score)) FROM people p JOIN cities c ON c.person = p.id GROUP BY c.city ORDER BY c.city");
    failures += run(database, "SELECT name, age, score FROM people ORDER BY score DESC, id LIMIT 5");
    failures += run(database, "SELECT printf('%5d|%-8s|%e|%g|%x', 42, 'ab', 12345.678, 0.0001, 255), upper('abc'), length('hello'), substr('minilibc', 5), replace('a-b-c', '-', '+')");
    failures += run(database, "SELECT date('2024-02-28', '+1 day'), datetime(1700000000, 'unixepoch'), strftime('%Y/%j', '2023-12-31'), julianday('2000-01-01')");
    failures += run(database, "SELECT 1.0/3, 1e300*10, -0.0, 9223372036854775807 + 0, CAST('12.5e3' AS REAL), abs(-7), 7 % 3, hex('sql')");
    failures += run(database, "BEGIN; DELETE FROM people WHERE age < 50; SELECT count(*) FROM people; ROLLBACK");
    failures += run(database, "SELECT count(*) FROM people");
    failures += run(database, "SELECT * FROM nonexistent") == 0;
    sqlite3_close(database);
    if (sqlite3_open(argv[1], &database) != SQLITE_OK) { printf("reopen failed\n"); return 1; }
    failures += run(database, "SELECT count(*), count(DISTINCT name) FROM people");
    failures += run(database, "PRAGMA integrity_check");
    failures += run(database, "VACUUM");
    sqlite3_close(database);
    printf("sqlite %s, %d failures\n", sqlite3_libversion(), failures);
    return failures != 0;
}
