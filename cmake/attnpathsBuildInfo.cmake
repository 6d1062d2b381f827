# cmake -DSOURCE_DIR=… -DOUTPUT=…/build_info.cc -DVERSION=… -DCOMPILER=… -DBUILD_TYPE=…
#       -DFLAGS=… -DLIBRARIES=… [-DGIT_COMMIT=…] -P attnpathsBuildInfo.cmake
#
# Runs at every build (the custom target attnpaths_build_info): writes the
# BuildInfo of data/provenance.h with the git commit of SOURCE_DIR now, and
# touches OUTPUT only when its text changes, so an unchanged commit rebuilds
# nothing. GIT_COMMIT (the ATTNPATHS_GIT_COMMIT cache variable) names the
# commit of a source tree without .git (a release tarball); otherwise a tree
# that is not a git checkout records "unknown".
set(commit "unknown")
set(dirty false)
if(GIT_COMMIT)
  set(commit "${GIT_COMMIT}")
else()
  find_program(git_program git)
  if(git_program)
    set(ENV{GIT_OPTIONAL_LOCKS} 0)  # never take the index lock of a checkout in use
    execute_process(COMMAND "${git_program}" -C "${SOURCE_DIR}" rev-parse --verify HEAD
                    RESULT_VARIABLE rc OUTPUT_VARIABLE head ERROR_QUIET
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND head MATCHES "^[0-9a-f]+$")
      set(commit "${head}")
      execute_process(COMMAND "${git_program}" -C "${SOURCE_DIR}" status --porcelain
                              --untracked-files=no
                      RESULT_VARIABLE rc OUTPUT_VARIABLE changes ERROR_QUIET)
      if(rc EQUAL 0 AND NOT changes STREQUAL "")
        set(dirty true)
      endif()
    endif()
  endif()
endif()
foreach(var VERSION COMPILER BUILD_TYPE FLAGS LIBRARIES commit)
  string(REPLACE "\\" "\\\\" ${var} "${${var}}")
  string(REPLACE "\"" "\\\"" ${var} "${${var}}")
endforeach()
configure_file("${CMAKE_CURRENT_LIST_DIR}/build_info.cc.in" "${OUTPUT}.new" @ONLY)
file(COPY_FILE "${OUTPUT}.new" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.new")
