# bgpcomm_add_bats: registers one bats suite as a ctest test (TAP output). Included by the
# top-level CMakeLists.txt before the e2e folders.
#
#   bgpcomm_add_bats(NAME <test> FILE <suite.bats> LABELS <label>... TIMEOUT <seconds>
#                    [CLUSTER] [FILTER_TAGS <expression>] [RESOURCE_LOCK <name>...]
#                    [ENVIRONMENT <KEY=value>...] [FIXTURES_REQUIRED <fixture>...])
#
# CLUSTER: the suite runs on the local control plane of e2e/cluster/ (it requires the
# fixture bgpcomm_e2e_cluster, gets its environment BGPCOMM_E2E_ENV and holds its lock).
#
# bats is a required tool, like the compiler: without it every suite is still registered
# and fails, saying what to install, so that `make test` never shrinks to a green subset.
find_program(BATS_EXECUTABLE bats)
if(NOT BATS_EXECUTABLE)
  message(WARNING "bats not found: every end-to-end suite will fail (make deps installs it)")
endif()

# The local control plane shared by the CLUSTER suites (e2e/CMakeLists.txt starts it): its
# state in the build tree, so that a `make demo` cluster in .bgpcomm/ is left alone.
set(BGPCOMM_E2E_STATE_DIR ${CMAKE_BINARY_DIR}/e2e-cluster)
set(BGPCOMM_E2E_ENV
    BGPCOMM_STATE_DIR=${BGPCOMM_E2E_STATE_DIR}
    BGPCOMM_BIN_DIR=${CMAKE_BINARY_DIR}/bin
    KUBECONFIG=${BGPCOMM_E2E_STATE_DIR}/kubeconfig
    BGPCOMM_E2E_PROVIDER=local)

function(bgpcomm_add_bats)
  cmake_parse_arguments(PARSE_ARGV 0 arg "CLUSTER" "NAME;FILE;TIMEOUT;FILTER_TAGS"
                        "LABELS;RESOURCE_LOCK;ENVIRONMENT;FIXTURES_REQUIRED")
  if(NOT arg_NAME OR NOT arg_FILE OR NOT arg_LABELS OR NOT arg_TIMEOUT)
    message(FATAL_ERROR "bgpcomm_add_bats: NAME, FILE, LABELS and TIMEOUT are required")
  endif()
  if(BATS_EXECUTABLE)
    set(command ${BATS_EXECUTABLE} --formatter tap)
    if(arg_FILTER_TAGS)
      list(APPEND command --filter-tags ${arg_FILTER_TAGS})
    endif()
    list(APPEND command ${arg_FILE})
  else()
    set(command sh -c "echo 'bats is not installed: run make deps' >&2; exit 1")
  endif()
  add_test(NAME ${arg_NAME} COMMAND ${command})

  set(environment ${arg_ENVIRONMENT})
  set(fixtures ${arg_FIXTURES_REQUIRED})
  set(locks ${arg_RESOURCE_LOCK})
  if(arg_CLUSTER)
    list(APPEND environment ${BGPCOMM_E2E_ENV})
    list(APPEND fixtures bgpcomm_e2e_cluster)
    list(APPEND locks bgpcomm_e2e_cluster)
  endif()
  set_tests_properties(${arg_NAME} PROPERTIES LABELS "${arg_LABELS}" TIMEOUT ${arg_TIMEOUT})
  if(environment)
    set_tests_properties(${arg_NAME} PROPERTIES ENVIRONMENT "${environment}")
  endif()
  if(fixtures)
    set_tests_properties(${arg_NAME} PROPERTIES FIXTURES_REQUIRED "${fixtures}")
  endif()
  if(locks)
    set_tests_properties(${arg_NAME} PROPERTIES RESOURCE_LOCK "${locks}")
  endif()
endfunction()
