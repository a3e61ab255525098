// File: all_pages.h
// Every page of a List call, fetched one request after another: `call(context, request,
// response)` runs one page (a stub method in a lambda), `take(response, first)` moves the
// page's items into the caller's whole list. Ends at the page without a next_page_token (or one
// that repeats the last token), after at most 10000 pages; answers the first failed call.
//
//   grpc::Status status = client::FetchAllPages<v1::ListAppsResponse>(
//       connection, request,
//       [&](auto* context, const auto& r, auto* out) { return stub.ListApps(context, r, out); },
//       [&](v1::ListAppsResponse& page, bool first) { ... });
#pragma once

#include "cli/client/connection.h"
#include "grpcpp/grpcpp.h"

namespace sockudo::cli::client {

template <typename Response, typename Request, typename Call, typename Take>
grpc::Status FetchAllPages(const Connection& connection, Request request, Call call, Take take) {
  for (int page = 0; page < 10000; ++page) {
    grpc::ClientContext context;
    connection.Prepare(&context);
    Response response;
    grpc::Status status = call(&context, request, &response);
    if (!status.ok()) return status;
    take(response, page == 0);
    if (response.next_page_token().empty() || response.next_page_token() == request.page_token()) {
      break;
    }
    request.set_page_token(response.next_page_token());
  }
  return grpc::Status::OK;
}

}  // namespace sockudo::cli::client
