/* The runtime's platform hooks as this kernel binds them. */
#ifndef KERNEL_PLATFORM_H
#define KERNEL_PLATFORM_H

#include "metaslot/ms.h"

extern const struct ms_platform kernel_platform;

#endif
