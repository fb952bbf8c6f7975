#include "community/annotation.h"

#include <gtest/gtest.h>
