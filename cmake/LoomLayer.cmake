# loom_add_layer(name DEPENDS deps...) builds src/<name>/** into loom_<name>,
# with include/ public. Sources are globbed so a new op or kernel is one new file.
function(loom_add_layer name)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  if(NOT sources)  # a layer with no code yet still gets a target, so dependents link
    set(sources ${PROJECT_BINARY_DIR}/loom_${name}_empty.cpp)
    file(WRITE ${sources} "// layer ${name} has no sources yet\n")
  endif()
  add_library(loom_${name} STATIC ${sources})
  add_library(loom::${name} ALIAS loom_${name})
  set_target_properties(loom_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME ${name})
  target_include_directories(loom_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/src/${name})
  # loom never reads errno; without this GCC will not vectorise loops that call sqrt.
  target_compile_options(loom_${name} PRIVATE -Wall -Wextra -Wno-unused-parameter -fno-math-errno)
  if(ARG_DEPENDS)
    target_link_libraries(loom_${name} PUBLIC ${ARG_DEPENDS})
  endif()
  set_property(GLOBAL APPEND PROPERTY LOOM_LAYERS loom_${name})
endfunction()

# loom_add_test_suite(layer) makes one GoogleTest executable per layer from tests/<layer>/*_test.cpp.
function(loom_add_test_suite layer)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${layer}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${layer}_tests ${sources})
  target_link_libraries(${layer}_tests PRIVATE loom::loom loom_test_support GTest::gtest_main)
  target_include_directories(${layer}_tests PRIVATE ${PROJECT_SOURCE_DIR}/src)
  gtest_discover_tests(${layer}_tests DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "LOOM_SOURCE_DIR=${PROJECT_SOURCE_DIR};LOOM_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
