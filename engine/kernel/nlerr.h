/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <netlink/errno.h>

/*
 * libnl reports its own error codes (NLE_*, negative); the engine speaks -errno. libnl folds several errnos into
 * one code (ENOBUFS and ENOMEM are both NLE_NOMEM, ESRCH and ENOENT both NLE_OBJ_NOTFOUND): where the difference
 * matters, look at errno right after the call (procevents does, for ENOBUFS).
 */
static inline int nlerr_to_errno(int nlerr)
{
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case NLE_SUCCESS:
                return 0;
        case NLE_INTR:
                return -EINTR;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_INVAL:
        case NLE_MISSING_ATTR:
        case NLE_PARSE_ERR:
                return -EINVAL;
        case NLE_RANGE:
                return -ERANGE;
        case NLE_MSGSIZE:
        case NLE_MSG_TOOSHORT:
        case NLE_MSG_TRUNC:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
        case NLE_MSGTYPE_NOSUPPORT:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
        case NLE_PROTO_MISMATCH:
                return -EPROTONOSUPPORT;
        case NLE_OBJ_NOTFOUND:
        case NLE_NOATTR:
                return -ENOENT;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_PERM:
                return -EPERM;
        case NLE_NODEV:
                return -ENODEV;
        case NLE_MSG_OVERFLOW:
                return -ENOBUFS;
        case NLE_DUMP_INTR:
                return -EAGAIN;
        default:
                return -EIO;
        }
}
