#define BOOST_TEST_MODULE household_integration
#include <boost/test/unit_test.hpp>
