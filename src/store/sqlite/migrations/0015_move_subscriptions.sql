-- Every gateway subscription a move cleared, not only the service's: its
-- addons' and the domain's too (WHMCS 8.4 has tblhostingaddons.subscriptionid
-- and tbldomains.subscriptionid). A JSON list of {kind, id, subscription},
-- kind `service`, `addon` or `domain`, for staff to cancel at the gateway.
ALTER TABLE transfers ADD COLUMN subscriptions_cleared TEXT;

UPDATE transfers
   SET subscriptions_cleared = json_array(json_object('kind', 'service', 'id', service_id,
                                                      'subscription', subscription_cleared))
 WHERE subscription_cleared IS NOT NULL AND subscription_cleared != '';

ALTER TABLE transfers DROP COLUMN subscription_cleared;
