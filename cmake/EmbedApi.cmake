# offers_embed_api(TARGET DOCUMENT FUNCTION): compiles api/DOCUMENT into TARGET as
# offers::api::FUNCTION() (declared in shared/http/api_documents.hpp), regenerated when the file changes.
set(OFFERS_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_document.cmake)
function(offers_embed_api target document function)
  set(input ${PROJECT_SOURCE_DIR}/api/${document})
  set(output ${CMAKE_CURRENT_BINARY_DIR}/${function}.cpp)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${output} -DFUNCTION=${function}
            -P ${OFFERS_EMBED_SCRIPT}
    DEPENDS ${input} ${OFFERS_EMBED_SCRIPT}
    COMMENT "Embedding api/${document}"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()
