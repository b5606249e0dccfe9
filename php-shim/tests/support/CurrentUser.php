<?php

namespace WHMCS\Authentication;

/**
 * WHMCS 8's current-user class (developer docs `advanced/authentication`), as
 * the Diagnostics tab looks for it: no user is logged in to an admin page.
 */
final class CurrentUser
{
    public function user(): ?object
    {
        return null;
    }
}
