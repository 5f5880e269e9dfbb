Feature: Quoting a parcel
  As a shop owner
  I want a price before I print the label

  Scenario Outline: standard and express parcels
    Given a parcel of <weight> kg
    When I ask for a <service> quote
    Then the price is <price> EUR

    Examples:
      | weight | service  | price |
      | 1      | standard | 6.15  |
      | 2.5    | standard | 8.03  |
      | 2.5    | express  | 14.45 |

  Scenario: an empty parcel is refused
    Given a parcel of 0 kg
    When I ask for a standard quote
    Then I am told the weight must be positive
