#ifndef EGRESS_CSECCOMP_SHIM_H
#define EGRESS_CSECCOMP_SHIM_H

#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>

// SCMP_ACT_* are function-like macros Swift cannot import.
static inline uint32_t egress_scmp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t egress_scmp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t egress_scmp_act_errno(uint16_t error) { return SCMP_ACT_ERRNO(error); }
static inline uint32_t egress_scmp_act_trap(void) { return SCMP_ACT_TRAP; }

// prctl(2) is variadic in glibc, which Swift cannot call.
static inline int egress_prctl_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
static inline int egress_prctl_get_no_new_privs(void) { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }

#endif
