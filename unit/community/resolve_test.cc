#include "community/resolve.h"

#include <gtest/gtest.h>
