# sockudo_cc_library(NAME n SRCS ... DEPS ...): a static library `sockudo_n` with the alias
# `sockudo::n`, public include root at the repository top, so headers are included as
# "common/base/status_macros.h".
function(sockudo_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(sockudo_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(sockudo::${ARG_NAME} ALIAS sockudo_${ARG_NAME})
  target_include_directories(sockudo_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(sockudo_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()
