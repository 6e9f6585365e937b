#ifndef EGRESS_CPCRE2_SHIM_H
#define EGRESS_CPCRE2_SHIM_H

// The 8-bit library only: detectors scan raw bytes (UTF-8 or not).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#endif
