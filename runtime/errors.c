/* Names of the error codes (enum ms_err), and the way to the panic hook. */
#include "internal.h"

const char *ms_strerror(int err)
{
	switch (err) {
	case MS_OK: return "MS_OK: success";
	case MS_ENOMEM: return "MS_ENOMEM: no free block of that order";
	case MS_EORDER: return "MS_EORDER: order above MS_MAX_ORDER";
	case MS_ERANGE: return "MS_ERANGE: pfn or range outside the instance";
	case MS_EALIGN: return "MS_EALIGN: pfn not aligned to the order";
	case MS_EDOUBLEFREE: return "MS_EDOUBLEFREE: frame is not allocated (free, cached, quarantined or reserved)";
	case MS_EWRONGORDER: return "MS_EWRONGORDER: order differs from the allocation's";
	case MS_EREFZERO: return "MS_EREFZERO: refcount is 0";
	case MS_EBUSY: return "MS_EBUSY: other references are still held";
	case MS_EOVERLAP: return "MS_EOVERLAP: range overlaps an added range";
	case MS_EINVAL: return "MS_EINVAL: invalid argument";
	case MS_ENOSPC: return "MS_ENOSPC: buffer too small";
	case MS_ECORRUPT: return "MS_ECORRUPT: consistency check failed";
	case MS_EOVERFLOW: return "MS_EOVERFLOW: refcount would overflow";
	default: return "MS_E?: unknown error code";
	}
}

void ms_panic(const struct ms_instance *inst, const char *what, uint64_t pfn, uint64_t value)
{
	inst->platform.panic(what, pfn, value);
	__builtin_trap();
}
