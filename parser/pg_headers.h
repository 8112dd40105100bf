// parser/-internal: the one place that includes libpg_query's and PostgreSQL's
// headers. Include it from parser/*.cc only, after every standard header, since
// PostgreSQL's port.h redefines printf & co. as macros; they are undefined again
// below so that code after this include can still use the standard library.
#pragma once

extern "C" {
#include <pg_query.h>
// pg_query_internal.h is not wrapped for C++ and needs postgres.h first.
#include <pg_query/pg_query_internal.h>
#include <nodes/parsenodes.h>
#include <nodes/pg_list.h>
}

// port.h and c.h macros that collide with the C++ standard library.
#undef printf
#undef fprintf
#undef sprintf
#undef snprintf
#undef vprintf
#undef vfprintf
#undef vsprintf
#undef vsnprintf
#undef strerror
#undef strerror_r
#undef rename
#undef unlink
#undef qsort
#undef strtof
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext
#undef DEBUG
